"""Imports and exports cost a fixed number of queries per chunk, whatever the number of rows."""
import io
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.services.records import records_export, records_import
from tests.records.flat_files import csv_text, instance_row, record_row


def _patients_csv(prefix: str, count: int) -> bytes:
    """`count` patients of one shape: a record row and one instance of every repeating instrument."""
    rows = []
    for number in range(count):
        record_id = f"{prefix}-{number:03d}"
        rows += [
            record_row(record_id, sex="1", adv_dx_date="2020-01-01", vital="1"),
            instance_row(record_id, "treatment_line", 1, line_no="1", line_type="1", line_drug="2",
                         line_start="2020-01-10"),
            instance_row(record_id, "local_therapy", 1, lt_date="2020-02-01", lt_type="1"),
            instance_row(record_id, "tumor_assessment", 1, ta_date="2020-01-05"),
            instance_row(record_id, "lesion", 1, les_id="L1", les_line="1", les_class="1", les_site="1"),
            instance_row(record_id, "lesion_measurement", 1, lm_date="2020-01-05", lm_lesion="L1", lm_status="1",
                         lm_mm="20"),
            instance_row(record_id, "biopsy", 1, bx_date="2020-01-02", bx_specimen="1"),
            instance_row(record_id, "ngs_variant", 1, var_bx_date="2020-01-02", var_gene="ALK", var_kind="3"),
        ]
    return csv_text(rows).encode()


def _import_queries(site, prefix: str, count: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        result = records_import(source=io.BytesIO(_patients_csv(prefix, count)), file_format="csv", site=site,
                                user=None)
    assert result.problems == []
    return [query["sql"] for query in queries.captured_queries]


def test_importing_20_patients_costs_as_many_queries_as_importing_5(site_a):
    # Per chunk of one instrument (here the whole file); each chunk's query of its patients also
    # takes their row locks (SELECT ... FOR UPDATE OF on PostgreSQL: no query of its own):
    #   record rows: patients by record ID (with site); INSERT patients; INSERT their history   -> 3
    #   treatment lines, tumor assessments, lesions, biopsies: the chunk's patients; their
    #     stored instances; the keys of all their instances (one-per-patient rules); INSERT;
    #     INSERT history                                                                       -> 4 x 5
    #   local therapy: patients; stored instances; INSERT; INSERT history                      -> 4
    #   lesion measurements: patients; stored instances; keys; assessments named; lesions
    #     named; INSERT; INSERT history                                                        -> 7
    #   NGS variants: patients; stored instances; biopsies named; INSERT; INSERT history       -> 5
    # plus, per chunk of a repeating instrument, the locks in force on its records
    #   (registry/selectors/locks.py; none for the record rows: every record is new)           -> 7
    # plus SAVEPOINT and RELEASE of records_import's atomic block inside the test's transaction -> 2
    # plus the UPDATE marking the written patients' derived results stale (patients_changed)    -> 1
    # plus the upsert of the written records' versions (patients_version_bump)                -> 1
    # plus the soft checks of what was written (registry/services/soft_checks.py written_warnings):
    #   the workspace settings; per written model the instances (patients; lines, local therapies,
    #   assessments, lesions, biopsies, measurements with their assessment's date, variants), and
    #   what their checks read: death dates (lines, local therapies, assessments, biopsies), lines
    #   (assessments), lesions with their measurements (measurements); confirmations only where a
    #   check was found (none here)                                     -> 1 + 8 + 4 + 1 + 1 = 15
    # plus, on PostgreSQL, where each INSERT of new rows is a binary COPY, the SELECT nextval(...)
    #   reserving their ids first (registry/services/bulk_statements.py), once per model     -> 8
    # (SQLite splits an INSERT every 999 parameters: 20 tumor assessments with their 39 history
    # columns still fit in one. A chunk of CHUNK_ROWS rows takes more INSERTs, a fixed number.)
    few = _import_queries(site_a, "FEW", 5)
    many = _import_queries(site_a, "MANY", 20)

    reserved_ids = 8 if connection.vendor == "postgresql" else 0
    assert len(few) == len(many) == 3 + 20 + 4 + 7 + 5 + 7 + 2 + 1 + 1 + 15 + reserved_ids


def test_reimporting_20_unchanged_patients_costs_as_many_queries_as_5(site_a):
    # Unchanged rows are compared and not written: only each chunk's SELECTs remain
    # (1 + 4 x 3 + 2 + 5 + 3), the locks of each of the 8 chunks' records, plus SAVEPOINT and RELEASE.
    _import_queries(site_a, "FEW", 5)
    _import_queries(site_a, "MANY", 20)

    few = _import_queries(site_a, "FEW", 5)
    many = _import_queries(site_a, "MANY", 20)

    assert len(few) == len(many) == 1 + 12 + 2 + 5 + 3 + 8 + 2


def _export_queries(**options) -> int:
    with CaptureQueriesContext(connection) as queries:
        records_export(output=io.StringIO(), **options)
    return len(queries.captured_queries)


def test_exporting_20_patients_costs_as_many_queries_as_exporting_5(site_a, site_b):
    # Record IDs of the chosen patients (sorted in Python); then per batch of patients: the
    # patients, and one query per repeating instrument (measurements with their assessment and
    # lesion, variants with their biopsy)                                   -> 1 + 1 + 7
    # then the identified-export log: the exported sites' codes, its row    -> 1 + 1
    # and first, whether a record holds a code in a checkbox field (its code columns are then
    # written): one per model with such fields (patient: alk_method; assessment: ta_scope, ta_new_sites) -> 2
    _import_queries(site_a, "FEW", 5)
    _import_queries(site_b, "MANY", 20)

    assert _export_queries(site=site_a) == _export_queries(site=site_b) == 2 + 1 + 1 + 7 + 2


def test_no_read_of_the_import_joins_a_table_only_to_sort_by_it(site_a):
    # The models' default orderings (a measurement: patient's record ID, assessment's date, lesion's
    # identifier) join two or three tables; a read the import makes for every chunk must not take
    # them (at 10,000 patients the merge joins read whole indexes per chunk: the import ran at half
    # the speed of 2,000 patients). A read may sort by a column of its own table (row locks by id).
    for sql in _import_queries(site_a, "ORD", 3):
        if not sql.startswith("SELECT") or "ORDER BY" not in sql:
            continue
        table = re.search(r' FROM "(\w+)"', sql)
        if table is None:
            continue  # a read of no table (PostgreSQL's reservation of new ids: FROM generate_series)
        order = sql[sql.index("ORDER BY"):]
        assert set(re.findall(r'"(\w+)"\."', order)) <= {table.group(1)}, sql
