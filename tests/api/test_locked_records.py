"""The REST API refuses to change or delete locked data, naming the lock, and writes nothing."""
import pytest

from tests.locked_records import locked_record, snapshot, whole_record_refusal

from .api_helpers import if_match, problems_of

LOCKED = f"cannot be changed: {whole_record_refusal()}; a data manager may unlock it"
REFUSED = f"Nothing was written: {whole_record_refusal()}. A data manager may unlock it, giving a reason."


def test_a_locked_record_refuses_changes_and_deletions_through_the_rest_api(administrator_api, site_a):
    locked_record(site_a)
    before = snapshot()
    version = if_match(administrator_api, "P-1")

    changed = administrator_api.patch("/api/v1/patients/P-1/", {"mrn": "MRN-2"}, format="json", **version)
    line = administrator_api.patch("/api/v1/patients/P-1/treatment_line/1/", {"line_ecog": 2}, format="json",
                                   **version)
    added = administrator_api.post("/api/v1/patients/P-1/treatment_line/", {
        "line_no": 3, "line_type": 1, "line_drug": 2, "line_start": "2022-01-01"}, format="json", **version)
    line_deleted = administrator_api.delete("/api/v1/patients/P-1/treatment_line/2/", **version)
    record_deleted = administrator_api.delete("/api/v1/patients/P-1/", **version)

    for answer in (changed, line, added):
        assert answer.status_code == 400, answer.content  # a refused value, as every problem of a write
        assert [reason for *_, reason in problems_of(answer)] == [LOCKED]
    for answer in (line_deleted, record_deleted):
        assert (answer.status_code, answer.json()["detail"]) == (403, REFUSED)
    assert snapshot() == before


@pytest.mark.django_db
def test_a_locked_instance_refuses_the_bulk_upsert_but_its_neighbours_change(administrator_api, site_a):
    locked_record(site_a, whole_record=False)  # treatment line 1
    before = snapshot()
    version = if_match(administrator_api, "P-1")

    refused = administrator_api.patch("/api/v1/patients/P-1/treatment_line/1/", {"line_ecog": 2}, format="json",
                                      **version)
    changed = administrator_api.patch("/api/v1/patients/P-1/treatment_line/2/", {"line_ecog": 2}, format="json",
                                      **version)

    assert refused.status_code == 400
    assert problems_of(refused) == [("P-1", "treatment_line", "redcap_repeat_instance",
                                     "cannot be changed: treatment_line 1 of record P-1 is locked (by data_manager "
                                     "on 2026-11-30 09:15 UTC); a data manager may unlock it")]
    assert changed.status_code == 200 and snapshot() != before
