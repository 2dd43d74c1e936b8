"""The REDCap API refuses to import over or delete locked data, naming the lock, and writes nothing."""
import json

from tests.locked_records import locked_record, snapshot, whole_record_refusal
from tests.records.flat_files import instance_row, record_row


def test_a_locked_record_refuses_an_import_and_a_deletion_through_the_redcap_api(redcap, admin_token, site_a):
    locked_record(site_a)
    before = snapshot()
    rows = [record_row("P-1", mrn="MRN-2"), instance_row("P-1", "treatment_line", 2, line_ecog="3")]

    imported = redcap(admin_token, "record", format="json", data=json.dumps(rows), returnFormat="json",
                      dataAccessGroup="site-a")
    deleted = redcap(admin_token, "record", action="delete", returnFormat="json", **{"records[0]": "P-1"})

    reason = f"cannot be changed: {whole_record_refusal()}; a data manager may unlock it"
    # JSON items count from 1 (registry/records/import_result.py); the error lists record, field, value, reason.
    assert imported.status == 400
    assert imported.json()["error"].splitlines() == [
        f'"P-1","record_id","P-1","{reason} (item 1)"',
        f'"P-1","record_id","P-1","{reason} (item 2, treatment_line instance 2)"',
    ]
    assert (deleted.status, deleted.json()) == (403, {"error": (
        f"Nothing was written: {whole_record_refusal()}. A data manager may unlock it, giving a reason.")})
    assert snapshot() == before
