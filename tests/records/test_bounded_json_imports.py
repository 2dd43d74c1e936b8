"""Flat JSON nested too deep through the command and the admin's REDCap upload: one problem saying
at which byte, nothing written, the file read once (the depth is checked while ijson streams it)."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from registry.models import Patient
from tests import factories

# A valid first record, then an item nested 100 levels. The 99 bytes "[", the record (96) and ", "
# come first; the list is level 1, so the item's 64th "[" (byte 99 + 64) opens level 65.
FIRST = '{"record_id": "P-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": "", "vital": "2"}'
TOO_DEEP = "[" + FIRST + ", " + "[" * 100 + "]" * 100 + "]"
REASON = "The file cannot be read: JSON nested deeper than 64 levels (at byte 163)."


@pytest.fixture
def alive_patient(site_a):
    factories.make_patient(site_a, "P-1", vital=1)


def test_the_import_command_reports_json_nested_too_deep_and_writes_nothing(alive_patient, tmp_path, capsys):
    path = tmp_path / "records.json"
    path.write_text(TOO_DEEP)

    with pytest.raises(CommandError, match=r"^1 problem\(s\) in records.json; nothing was imported.$"):
        call_command("import_records", str(path), "--site", "site-a")

    assert capsys.readouterr().out.splitlines()[1:] == [f"\t\t\t\t\t\t{REASON}"]
    assert Patient.objects.get().vital == 1


def test_the_admin_redcap_upload_reports_json_nested_too_deep_and_writes_nothing(
    client, coordinator_a, site_a, alive_patient, settings, tmp_path,
):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    client.force_login(coordinator_a)

    response = client.post(reverse("admin:registry_patient_import_redcap"), {
        "file": SimpleUploadedFile("records.json", TOO_DEEP.encode(), content_type="application/json"),
        "site": site_a.id, "overwrite_behavior": "normal",
    })

    assert response.status_code == 200
    assert [tuple(vars(problem).values()) for problem in response.context["result"].problems] == [
        (None, "", "", "", "", "", REASON),
    ]
    assert Patient.objects.get().vital == 1
