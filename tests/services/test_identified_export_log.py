"""Every identified export is logged as it is produced, whichever door it comes through: the commands
(export_dataset without --deidentify, export_records) and the admin's export jobs here; the REST API,
the admin pages and the REDCap API in their own test files. De-identified exports are not logged, and
a refused export logs nothing."""
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from registry.models import ExportDoor, IdentifiedExport, RegistryRole, Role
from registry.selectors.export_access import ExportNotAllowed
from registry.services.export_jobs import export_job_request
from registry.services.records import records_export
from tests import factories
from tests.exports.populated import make_derived_patient

KEY = "k" * 32
LOGGED = ("user", "username", "door", "content", "file_format", "site_codes", "record_count", "parameters")


@pytest.fixture
def cohort(site_a, site_b, settings, tmp_path):
    settings.DEIDENTIFICATION_KEY = KEY
    settings.EXPORTS_DIR = tmp_path / "exports"
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_a, "A-2")
    make_derived_patient(site_b, "B-1")


def logged() -> list[dict]:
    return list(IdentifiedExport.objects.order_by("id").values(*LOGGED))


def test_the_export_dataset_command_logs_an_identified_export_and_not_a_deidentified_one(cohort, tmp_path):
    started = timezone.now()

    call_command("export_dataset", "patients", "--output", str(tmp_path / "patients.csv"), "--site", "site-a")
    call_command("export_dataset", "patients", "--output", str(tmp_path / "anonymous.csv"), "--deidentify")

    assert logged() == [{
        "user": None, "username": "", "door": ExportDoor.COMMAND_EXPORT_DATASET, "content": "patients",
        "file_format": "csv", "site_codes": "site-a", "record_count": 2,
        "parameters": {"site": "site-a", "rows": 2, "file": "patients.csv"},
    }]
    assert started <= IdentifiedExport.objects.get().exported_at <= timezone.now()


def test_the_export_dataset_command_logs_the_user_it_exports_for(cohort, tmp_path):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[])
    call_command("export_dataset", "lines", "--output", str(tmp_path / "lines.xlsx"), "--format", "xlsx",
                 "--user", "coordinator")

    # A coordinator of no site sees no patient: the (empty) export is still logged, with its user.
    assert logged() == [{
        "user": coordinator.pk, "username": "coordinator", "door": ExportDoor.COMMAND_EXPORT_DATASET,
        "content": "lines", "file_format": "xlsx", "site_codes": "", "record_count": 0,
        "parameters": {"site": None, "rows": 0, "file": "lines.xlsx"},
    }]


def test_the_export_records_command_logs_the_flat_export(cohort, tmp_path):
    call_command("export_records", "--output", str(tmp_path / "records.json"), "--records", "A-1", "B-1")

    written = json.loads((tmp_path / "records.json").read_text())
    assert {row["record_id"] for row in written} == {"A-1", "B-1"}
    assert logged() == [{
        "user": None, "username": "", "door": ExportDoor.COMMAND_EXPORT_RECORDS, "content": "records",
        "file_format": "json", "site_codes": "site-a, site-b", "record_count": 2,
        "parameters": {"rows": len(written), "output": "records.json", "site": None, "records": ["A-1", "B-1"]},
    }]


def test_the_flat_records_export_is_refused_to_a_reader_without_the_grant_and_logs_nothing(cohort, tmp_path):
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)
    output = tmp_path / "records.csv"

    with output.open("w") as handle, pytest.raises(ExportNotAllowed, match="may export de-identified data only"):
        records_export(output=handle, user=investigator)

    assert output.read_text() == ""
    assert logged() == []


def test_an_identified_export_job_is_logged_for_its_requester_and_a_deidentified_one_is_not(
    cohort, django_capture_on_commit_callbacks,
):
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    investigator = type(investigator).objects.get(pk=investigator.pk)

    with django_capture_on_commit_callbacks(execute=True):
        export_job_request(user=investigator, dataset="patients", file_format="csv", deidentify=True, site=None)
    with django_capture_on_commit_callbacks(execute=True):
        export_job_request(user=investigator, dataset="patients", file_format="dta", deidentify=False, site=None)

    assert logged() == [{
        "user": investigator.pk, "username": "investigator", "door": ExportDoor.ADMIN_EXPORT_JOB,
        "content": "patients", "file_format": "dta", "site_codes": "site-a, site-b", "record_count": 3,
        "parameters": {"site": None, "rows": 3, "file": "patients.dta"},
    }]
