"""seed_demo: the demo sites, users and the demo cohort, created once however often it runs."""
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.models import (
    AnalysisSettings, Biopsy, Lesion, LesionMeasurement, LocalTherapy, NgsVariant, Patient, PatientDerivation,
    RegistryRole, Role, Site, SiteMembership, TreatmentLine, TumorAssessment,
)
from registry.services import demo_cohort
from tests.demo_world import command_snapshot, demo_cohort_put_back

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# The demo cohort: WU-001 .. WU-073, odd numbers in demo-a, even in demo-b.
SITE_A_RECORDS = [f"WU-{number:03d}" for number in range(1, 74, 2)]
SITE_B_RECORDS = [f"WU-{number:03d}" for number in range(2, 74, 2)]


def seed_demo(*arguments: str) -> str:
    output = StringIO()
    call_command("seed_demo", *arguments, stdout=output)
    return output.getvalue()


@pytest.fixture(scope="module")
def first_seed_snapshot(django_db_setup, django_db_blocker):
    """`seed_demo` run once for the module on the empty test database (~11 s): the rows it wrote and
    what it printed (tests/demo_world.py)."""
    with django_db_blocker.unblock():
        return command_snapshot("seed_demo")


@pytest.fixture
def first_seed(first_seed_snapshot, db) -> str:
    """The database as a first `seed_demo` leaves it, in this test's transaction; what it printed."""
    demo_cohort_put_back(first_seed_snapshot.tables)
    return first_seed_snapshot.output


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+)\s+password: (\S+)", output, flags=re.MULTILINE))


def audit_trail_rows() -> int:
    return sum(
        model.objects.count() for model in apps.get_app_config("registry").get_models()
        if model.__name__.startswith("Historical")
    )


def test_the_demo_file_has_the_columns_of_the_example_redcap_export():
    example_header = (FIXTURES / "example_records.csv").read_text(encoding="utf-8").splitlines()[0]

    assert (FIXTURES / "demo_cohort.csv").read_text(encoding="utf-8").splitlines()[0] == example_header


@pytest.mark.django_db
def test_seed_demo_creates_the_sites_users_and_patients(first_seed):
    output = first_seed

    assert list(Site.objects.order_by("code").values_list("code", "name")) == [
        ("demo-a", "Demo Hospital A"), ("demo-b", "Demo Hospital B"),
    ]
    assert sorted(Patient.objects.filter(site__code="demo-a").values_list("record_id", flat=True)) == SITE_A_RECORDS
    assert sorted(Patient.objects.filter(site__code="demo-b").values_list("record_id", flat=True)) == SITE_B_RECORDS
    passwords = printed_passwords(output)
    assert set(passwords) == {"admin", "coordinator_a", "investigator"}
    admin = authenticate(username="admin", password=passwords["admin"])
    assert admin is not None and admin.is_superuser and admin.is_staff
    assert RegistryRole.objects.get(user=admin).role == Role.ADMINISTRATOR
    coordinator = authenticate(username="coordinator_a", password=passwords["coordinator_a"])
    assert coordinator is not None and coordinator.is_staff and not coordinator.is_superuser
    assert RegistryRole.objects.get(user=coordinator).role == Role.COORDINATOR
    assert list(SiteMembership.objects.filter(user=coordinator).values_list("site__code", flat=True)) == ["demo-a"]
    investigator = authenticate(username="investigator", password=passwords["investigator"])
    assert investigator is not None and investigator.is_staff and not investigator.is_superuser
    assert RegistryRole.objects.get(user=investigator).role == Role.INVESTIGATOR
    assert not SiteMembership.objects.filter(user=investigator).exists()


@pytest.mark.django_db
def test_demo_patients_are_entered_as_raw_records_of_every_repeating_instrument(first_seed):
    # Lines, scans, lesions, measurements, biopsies and variants: every instrument has rows, and
    # every patient has at least two lines, a baseline and follow-up scans and measured lesions.
    for model in (TreatmentLine, TumorAssessment, Lesion, LesionMeasurement, LocalTherapy, Biopsy, NgsVariant):
        assert model.objects.exists(), model.__name__
    for patient in Patient.objects.all():
        assert patient.treatment_lines.count() >= 2 or patient.record_id <= "WU-020", patient.record_id
        assert patient.tumor_assessments.count() >= 2 and patient.lesion_measurements.count() >= 2


@pytest.mark.django_db
def test_running_seed_demo_again_adds_nothing_and_prints_new_working_passwords(first_seed):
    first_passwords = printed_passwords(first_seed)
    patients, users, audit_rows = Patient.objects.count(), get_user_model().objects.count(), audit_trail_rows()

    second_output = seed_demo()

    assert Patient.objects.count() == patients == 73
    assert get_user_model().objects.count() == users == 3
    assert audit_trail_rows() == audit_rows
    assert "Demo patients of demo-a already loaded." in second_output
    second_passwords = printed_passwords(second_output)
    assert second_passwords["admin"] != first_passwords["admin"]
    assert authenticate(username="admin", password=second_passwords["admin"]) is not None
    assert authenticate(username="admin", password=first_passwords["admin"]) is None


@pytest.mark.django_db
def test_given_passwords_are_used():
    output = seed_demo(
        "--admin-password", "demo-admin-passphrase", "--coordinator-password", "demo-coordinator-passphrase",
        "--investigator-password", "demo-investigator-passphrase",
    )

    assert printed_passwords(output) == {
        "admin": "demo-admin-passphrase", "coordinator_a": "demo-coordinator-passphrase",
        "investigator": "demo-investigator-passphrase",
    }
    assert authenticate(username="admin", password="demo-admin-passphrase") is not None


@pytest.mark.django_db
def test_a_weak_given_password_is_refused_and_nothing_is_written():
    with pytest.raises(CommandError, match="The password for admin is too weak"):
        seed_demo("--admin-password", "admin")

    assert not Site.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_a_deleted_demo_patient_is_imported_again_and_the_others_are_left_alone(first_seed):
    Patient.objects.get(record_id="WU-002").delete()
    corrected = Patient.objects.get(record_id="WU-001")
    corrected.mrn = "MRN-CORRECTED"
    corrected.save(update_fields=["mrn"])

    output = seed_demo()

    assert "Loaded 1 demo patients into demo-b." in output
    assert Patient.objects.get(record_id="WU-002").site.code == "demo-b"
    assert Patient.objects.get(record_id="WU-001").mrn == "MRN-CORRECTED"


@pytest.mark.django_db
def test_a_demo_file_that_does_not_import_stops_the_command_and_writes_nothing(monkeypatch, tmp_path):
    broken = tmp_path / "demo_cohort.csv"
    good = demo_cohort.DEMO_COHORT_FILE.read_text(encoding="utf-8")
    # A measurement naming a lesion that the patient does not have (WU-001's first, at its baseline scan).
    broken.write_text(good.replace(",2018-01-29,L1-T1,1,", ",2018-01-29,L9-T9,1,", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != good
    monkeypatch.setattr(demo_cohort, "DEMO_COHORT_FILE", broken)

    with pytest.raises(CommandError, match=r"(?s)did not import into demo-a.*L9-T9"):
        seed_demo()

    assert not Patient.objects.exists()
    assert not Site.objects.exists()
    assert not get_user_model().objects.exists()
    assert not AnalysisSettings.objects.exists()


@pytest.mark.django_db
def test_seed_demo_derives_every_demo_patient_with_the_study_cutoff_on_a_new_database(first_seed):
    output = first_seed

    # Wu 2024, Methods: "The data cut-off date for this study was February 28, 2024".
    assert AnalysisSettings.objects.get(pk=1).data_cutoff.isoformat() == "2024-02-28"
    derived = PatientDerivation.objects.filter(is_stale=False, data_cutoff="2024-02-28")
    assert sorted(derived.values_list("patient__record_id", flat=True)) == sorted(SITE_A_RECORDS + SITE_B_RECORDS)
    assert "Derived results are current for 73 patients" in output


@pytest.mark.django_db
def test_seed_demo_keeps_settings_an_administrator_chose_and_derives_what_is_stale():
    AnalysisSettings.objects.create(pk=1, data_cutoff="2024-06-30")
    seed_demo()
    PatientDerivation.objects.update(is_stale=True)

    output = seed_demo()

    assert AnalysisSettings.objects.get(pk=1).data_cutoff.isoformat() == "2024-06-30"
    assert PatientDerivation.objects.filter(is_stale=False, data_cutoff="2024-06-30").count() == 73
    assert "(73 derived just now)" in output


@pytest.mark.django_db
def test_the_demo_sites_roles_and_memberships_reach_the_audit_trail_by_the_system_through_seed_demo(first_seed):
    for model in (Site, RegistryRole, SiteMembership):
        assert set(model.history.values_list("history_type", "history_user", "history_change_reason")) == {
            ("+", None, "seed_demo"),
        }, model.__name__
    assert Site.history.count() == 2 and RegistryRole.history.count() == 3 and SiteMembership.history.count() == 1
