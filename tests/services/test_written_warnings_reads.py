"""registry/services/soft_checks.py written_warnings reads only what the checks look at (the fields
of registry/records/soft_checks.py checked_attributes; measurements as values): the same warnings
as from whole instances, and no query per instance for a field left unread."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import LesionMeasurement, Patient
from registry.records.soft_checks import (
    AFTER_DEATH, FUTURE_DATE, OUTSIDE_RANGE, SCAN_AFTER_DEATH, SCAN_AFTER_LINE_END, TARGET_CHANGE,
    instances_soft_checks, soft_check_warnings,
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


def _from_whole_instances(written) -> list:
    """The checks' own definition, instances_soft_checks, over instances with every field loaded and
    their patient, a measurement's assessment and lesion as instances: what the narrow reads (only
    the checked fields; measurements as values) must give."""
    warnings = []
    for model, ids in written.items():
        instances = model.objects.filter(pk__in=ids)
        if model is not Patient:
            instances = instances.select_related("patient")
        if model is LesionMeasurement:
            instances = instances.select_related("assessment", "lesion")
        for instance, checks in instances_soft_checks(instances, today=timezone.localdate()):
            record = instance.record_id if model is Patient else instance.patient.record_id
            warnings += soft_check_warnings(checks, record=record)
    return sorted(warnings, key=lambda w: (w.record, w.form, w.instance or 0, w.field, w.check))


def _import(site, tmp_path, *records: str):
    rows = [row for record in records for row in _rows(record)]
    result = records_import(source=write_csv(tmp_path, f"{records[0]}.csv", rows), file_format="csv", site=site,
                            user=None)
    assert result.problems == []
    return result


def test_the_narrow_reads_give_every_warning_of_whole_instances(site_a, tmp_path):
    result = _import(site_a, tmp_path, "RW-1", "RW-2")
    assert {w.check for w in result.warnings} == {
        AFTER_DEATH, SCAN_AFTER_DEATH, SCAN_AFTER_LINE_END, TARGET_CHANGE, OUTSIDE_RANGE, FUTURE_DATE}

    narrow, _ = _warnings_and_queries(result.written_ids)

    assert narrow == result.warnings == _from_whole_instances(result.written_ids)
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


def test_the_narrow_reads_cost_no_query_per_instance(site_a, tmp_path):
    # A field the checks read but a narrow read left out would be loaded by one query per instance:
    # the checks of 4 records (52 instances) would then cost more queries than those of 2 (26).
    two = _import(site_a, tmp_path, "RQ-1", "RQ-2").written_ids
    more = _import(site_a, tmp_path, "RQ-3", "RQ-4").written_ids
    four = {model: [*ids, *more[model]] for model, ids in two.items()}

    assert _warnings_and_queries(two)[1] == _warnings_and_queries(four)[1]
