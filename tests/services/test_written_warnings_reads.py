"""registry/services/soft_checks.py written_warnings reads only the fields the checks look at
(registry/records/soft_checks.py checked_attributes): the same warnings as from instances with
every field loaded, and no query per instance for a field left unread."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.records import soft_checks as record_checks
from registry.records.soft_checks import (
    AFTER_DEATH, FUTURE_DATE, OUTSIDE_RANGE, SCAN_AFTER_DEATH, SCAN_AFTER_LINE_END, TARGET_CHANGE,
)
from registry.services.records import records_import
from registry.services.soft_checks import written_warnings
from tests.records.flat_files import instance_row, record_row, write_csv

ASSESSED = {"ta_new_lesion": "0"}
TARGET = {"les_line": "1", "les_class": "1", "les_site": "1"}


def _rows(record: str) -> list[dict[str, str]]:
    """A record on which every check asks at least once (the default settings: 50 %, 180 days):
    - died 2022-01-01: line 2 (start 2022-03-01, end 2022-04-01), the local therapy (2022-02-01)
      and the biopsy (2022-03-01) are after death (after_death), and scan 3 (2022-02-15) is a scan
      after death;
    - line 1 ended 2020-06-01 and line 2 started after scan 2 (2021-06-01): 365 days after the
      last line's end, more than 180 (scan_after_line_end); scan 3 too (624 days);
    - target lesion L1: 20 mm at scan 1, 41 mm at scan 2: (41 - 20) / 20 = 105 % > 50 %
      (target_change); L2 measured 600 mm, above the dictionary's maximum of 500, and a variant
      allele frequency of 150 above its 100 (outside_range);
    - last known alive 2999-01-01, in the future (future_date)."""
    scans = [("2020-01-05", 1), ("2021-06-01", 2), ("2022-02-15", 3)]
    return [
        record_row(record, sex="2", adv_dx_date="2020-01-02", vital="2", death_date="2022-01-01",
                   last_alive_date="2999-01-01"),
        instance_row(record, "treatment_line", 1, line_no="1", line_type="1", line_drug="2",
                     line_start="2020-01-10", line_end="2020-06-01"),
        instance_row(record, "treatment_line", 2, line_no="2", line_type="1", line_drug="3",
                     line_start="2022-03-01", line_end="2022-04-01"),
        instance_row(record, "local_therapy", 1, lt_date="2022-02-01", lt_type="1"),
        *(instance_row(record, "tumor_assessment", number, ta_date=day, **ASSESSED) for day, number in scans),
        instance_row(record, "lesion", 1, les_id="L1", **TARGET),
        instance_row(record, "lesion", 2, les_id="L2", **TARGET),
        instance_row(record, "lesion_measurement", 1, lm_date="2020-01-05", lm_lesion="L1", lm_status="1", lm_mm="20"),
        instance_row(record, "lesion_measurement", 2, lm_date="2021-06-01", lm_lesion="L1", lm_status="1", lm_mm="41"),
        instance_row(record, "lesion_measurement", 3, lm_date="2020-01-05", lm_lesion="L2", lm_status="1",
                     lm_mm="600"),
        instance_row(record, "biopsy", 1, bx_date="2022-03-01", bx_specimen="1"),
        instance_row(record, "ngs_variant", 1, var_bx_date="2022-03-01", var_gene="ALK", var_kind="3", var_vaf="150"),
    ]


def _warnings_and_queries(written) -> tuple[list, int]:
    with CaptureQueriesContext(connection) as queries:
        warnings = written_warnings(written)
    return warnings, len(queries.captured_queries)


def test_the_narrow_read_gives_every_warning_of_a_full_read_with_the_same_queries(site_a, tmp_path, monkeypatch):
    rows = _rows("RW-1") + _rows("RW-2")
    result = records_import(source=write_csv(tmp_path, "rw.csv", rows), file_format="csv", site=site_a, user=None)
    assert result.problems == []
    assert {w.check for w in result.warnings} == {
        AFTER_DEATH, SCAN_AFTER_DEATH, SCAN_AFTER_LINE_END, TARGET_CHANGE, OUTSIDE_RANGE, FUTURE_DATE}

    narrow, narrow_queries = _warnings_and_queries(result.written_ids)
    monkeypatch.setattr(record_checks, "checked_attributes", lambda model: None)  # every field read
    monkeypatch.setattr("registry.services.soft_checks.checked_attributes", lambda model: None)
    full, full_queries = _warnings_and_queries(result.written_ids)

    assert narrow == full
    # A field the checks read but the narrow read left out would be loaded by one query per
    # instance: 2 patients' 26 instances would add at least one query each.
    assert narrow_queries == full_queries
    # Each record's warnings, as derived in _rows' docstring (line 2 has two dates after death):
    expected = [
        ("biopsy", 1, "bx_date", "2022-03-01", AFTER_DEATH),
        ("lesion_measurement", 2, "lm_mm", "41", TARGET_CHANGE),
        ("lesion_measurement", 3, "lm_mm", "600", OUTSIDE_RANGE),
        ("local_therapy", 1, "lt_date", "2022-02-01", AFTER_DEATH),
        ("ngs_variant", 1, "var_vaf", "150", OUTSIDE_RANGE),
        ("treatment_line", 2, "line_end", "2022-04-01", AFTER_DEATH),
        ("treatment_line", 2, "line_start", "2022-03-01", AFTER_DEATH),
        ("tumor_assessment", 2, "ta_date", "2021-06-01", SCAN_AFTER_LINE_END),
        ("tumor_assessment", 3, "ta_date", "2022-02-15", SCAN_AFTER_DEATH),
        ("tumor_assessment", 3, "ta_date", "2022-02-15", SCAN_AFTER_LINE_END),
        ("vital_status", None, "last_alive_date", "2999-01-01", FUTURE_DATE),
    ]
    assert [(w.record, w.form, w.instance, w.field, w.value, w.check) for w in narrow] == [
        (record, *warning) for record in ("RW-1", "RW-2") for warning in expected]
