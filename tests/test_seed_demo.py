"""seed_demo: the demo sites, users and patients, created once however often it runs."""
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.management.commands import seed_demo as command
from registry.models import AnalysisSettings, Patient, PatientDerivation, RegistryRole, Role, Site, SiteMembership

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO_RECORDS_SITE_A = ["DEMO-001", "DEMO-002", "DEMO-003"]
DEMO_RECORDS_SITE_B = ["DEMO-004", "DEMO-005", "DEMO-006"]


def seed_demo(*arguments: str) -> str:
    output = StringIO()
    call_command("seed_demo", *arguments, stdout=output)
    return output.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+)\s+password: (\S+)", output, flags=re.MULTILINE))


def audit_trail_rows() -> int:
    return sum(
        model.objects.count() for model in apps.get_app_config("registry").get_models()
        if model.__name__.startswith("Historical")
    )


def test_demo_files_have_the_columns_of_the_example_redcap_export():
    example_header = (FIXTURES / "example_records.csv").read_text(encoding="utf-8").splitlines()[0]

    for demo_file in ("demo_records_site_a.csv", "demo_records_site_b.csv"):
        assert (FIXTURES / demo_file).read_text(encoding="utf-8").splitlines()[0] == example_header


@pytest.mark.django_db
def test_seed_demo_creates_the_sites_users_and_patients():
    output = seed_demo()

    assert list(Site.objects.values_list("code", "name")) == [
        ("demo-a", "Demo Hospital A"), ("demo-b", "Demo Hospital B"),
    ]
    assert list(Patient.objects.filter(site__code="demo-a").values_list("record_id", flat=True)) == DEMO_RECORDS_SITE_A
    assert list(Patient.objects.filter(site__code="demo-b").values_list("record_id", flat=True)) == DEMO_RECORDS_SITE_B
    passwords = printed_passwords(output)
    assert set(passwords) == {"admin", "coordinator_a"}
    admin = authenticate(username="admin", password=passwords["admin"])
    assert admin is not None and admin.is_superuser and admin.is_staff
    assert RegistryRole.objects.get(user=admin).role == Role.ADMINISTRATOR
    coordinator = authenticate(username="coordinator_a", password=passwords["coordinator_a"])
    assert coordinator is not None and coordinator.is_staff and not coordinator.is_superuser
    assert RegistryRole.objects.get(user=coordinator).role == Role.COORDINATOR
    assert list(SiteMembership.objects.filter(user=coordinator).values_list("site__code", flat=True)) == ["demo-a"]


@pytest.mark.django_db
def test_demo_patients_have_every_repeating_instrument():
    seed_demo()

    patient = Patient.objects.get(record_id="DEMO-001")
    assert patient.treatment_lines.count() == 2
    assert patient.local_therapies.count() == 1
    assert patient.tumor_assessments.count() == 4
    assert patient.lesions.count() == 4
    assert patient.lesion_measurements.count() == 11
    assert patient.biopsies.count() == 1
    assert patient.ngs_variants.count() == 1


@pytest.mark.django_db
def test_running_seed_demo_again_adds_nothing_and_prints_new_working_passwords():
    first_passwords = printed_passwords(seed_demo())
    patients, users, audit_rows = Patient.objects.count(), get_user_model().objects.count(), audit_trail_rows()

    second_output = seed_demo()

    assert Patient.objects.count() == patients == 6
    assert get_user_model().objects.count() == users == 2
    assert audit_trail_rows() == audit_rows
    second_passwords = printed_passwords(second_output)
    assert second_passwords["admin"] != first_passwords["admin"]
    assert authenticate(username="admin", password=second_passwords["admin"]) is not None
    assert authenticate(username="admin", password=first_passwords["admin"]) is None


@pytest.mark.django_db
def test_given_passwords_are_used():
    output = seed_demo(
        "--admin-password", "demo-admin-passphrase", "--coordinator-password", "demo-coordinator-passphrase"
    )

    assert printed_passwords(output) == {
        "admin": "demo-admin-passphrase", "coordinator_a": "demo-coordinator-passphrase",
    }
    assert authenticate(username="admin", password="demo-admin-passphrase") is not None


@pytest.mark.django_db
def test_a_weak_given_password_is_refused_and_nothing_is_written():
    with pytest.raises(CommandError, match="The password for admin is too weak"):
        seed_demo("--admin-password", "admin")

    assert not Site.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_a_deleted_demo_patient_is_imported_again_and_the_others_are_left_alone():
    seed_demo()
    Patient.objects.get(record_id="DEMO-002").delete()
    corrected = Patient.objects.get(record_id="DEMO-001")
    corrected.mrn = "MRN-CORRECTED"
    corrected.save(update_fields=["mrn"])

    output = seed_demo()

    assert "Loaded 1 demo patients into demo-a: DEMO-002" in output
    assert Patient.objects.get(record_id="DEMO-002").site.code == "demo-a"
    assert Patient.objects.get(record_id="DEMO-001").mrn == "MRN-CORRECTED"


@pytest.mark.django_db
def test_a_demo_file_that_does_not_import_stops_the_command_and_writes_nothing(monkeypatch, tmp_path):
    broken = tmp_path / "demo_records_site_a.csv"
    good = command.DEMO_SITES[0].records_file.read_text(encoding="utf-8")
    # A measurement naming a lesion that the patient does not have.
    broken.write_text(good.replace(",2019-04-15,L1-T2,1,10,", ",2019-04-15,L9-T9,1,10,", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != good
    monkeypatch.setattr(command, "DEMO_SITES", (command.DemoSite("demo-a", "Demo Hospital A", broken),))

    with pytest.raises(CommandError, match=r"(?s)did not import into demo-a.*L9-T9"):
        seed_demo()

    assert not Patient.objects.exists()
    assert not Site.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_seed_demo_derives_every_demo_patient_with_the_demo_cutoff_on_a_new_database():
    output = seed_demo()

    assert AnalysisSettings.objects.get(pk=1).data_cutoff == command.DEMO_DATA_CUTOFF
    derived = PatientDerivation.objects.filter(is_stale=False, data_cutoff=command.DEMO_DATA_CUTOFF)
    assert sorted(derived.values_list("patient__record_id", flat=True)) == DEMO_RECORDS_SITE_A + DEMO_RECORDS_SITE_B
    assert "Derived results are current for 6 patients" in output


@pytest.mark.django_db
def test_seed_demo_keeps_settings_an_administrator_chose_and_derives_what_is_stale():
    AnalysisSettings.objects.create(pk=1, data_cutoff="2023-12-31")
    seed_demo()
    PatientDerivation.objects.update(is_stale=True)

    output = seed_demo()

    assert AnalysisSettings.objects.get(pk=1).data_cutoff.isoformat() == "2023-12-31"
    assert PatientDerivation.objects.filter(is_stale=False, data_cutoff="2023-12-31").count() == 6
    assert "(6 derived just now)" in output
