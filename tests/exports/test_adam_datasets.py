"""`responses` (ADRS) and `tumor_sums` (ADTR), rules §8 (v2): rows worked out by hand for the world of
tests/exports/adam_world.py, derived by the real derivation, then the ways they leave the registry."""
import csv
from datetime import date, timedelta

import pyarrow.parquet as pq
import pyreadstat
import pytest
from django.core.management import call_command

from registry.exports import adam_datasets, datasets
from registry.exports.catalog import exportable
from registry.exports.datasets import export_patients
from registry.exports.deidentify import DeidentificationKey
from registry.models import Patient
from registry.services.data_cuts import data_cut_freeze
from registry.services.datasets import dataset_export
from tests import factories
from tests.exports import adam_conformance
from tests.exports.adam_world import make_adam_world
from tests.exports.exported import export_records, export_rows
from tests.exports.populated import make_derived_patient
from tests.exports.stored_results import (
    SETTINGS_SNAPSHOT, make_assessment_derivation, make_line_derivation, make_patient_derivation,
)

KEY = "k" * 32
STUDY = "ALK-REGISTRY"


@pytest.fixture
def world(site_a):
    return make_adam_world(site_a)


def _subject(record_id: str, site: str = "site-a") -> list[str]:
    return [record_id, site, STUDY, f"{STUDY}-{record_id}"]


def test_responses_are_an_overall_row_per_follow_up_assessment_then_the_best_response(world, tmp_path):
    header, *rows = export_rows(tmp_path, "responses")

    assert header == ["record_id", "site", "studyid", "usubjid", "line_no", "trtp", "paramcd", "param", "adt",
                      "avalc", "aval", "ady", "response_source"]
    overall, best = "Overall response by RECIST 1.1", "Best overall response by RECIST 1.1"
    ad1, ad2 = _subject("AD-1"), _subject("AD-2")
    assert rows == [
        # Line 1 starts 2021-01-10; its baseline sum is 60 (A0). Its window runs to line 2's start, 2022-01-10.
        # A1: 42 mm, 10 × 42 = 420 ≤ 7 × 60 = 420, PR exactly at the threshold; day 22.
        [*ad1, "1", "ALECTINIB", "OVRLRESP", overall, "2021-02-01", "PR", "2", "22", "derived"],
        # A2: T2 not evaluated and the known 30 mm is no PD against the nadir 42: NE; day 21 + 28 + 15 = 64.
        [*ad1, "1", "ALECTINIB", "OVRLRESP", overall, "2021-03-15", "NE", "6", "64", "derived"],
        # A3: 35 mm, 350 ≤ 420: PR; day 64 + 16 + 30 + 10 = 120.
        [*ad1, "1", "ALECTINIB", "OVRLRESP", overall, "2021-05-10", "PR", "2", "120", "derived"],
        # A4: 51 mm against the nadir 35: 510 ≥ 12 × 35 = 420 and 16 mm ≥ 5 mm: PD; day 120 + 84 = 204.
        [*ad1, "1", "ALECTINIB", "OVRLRESP", overall, "2021-08-02", "PD", "5", "204", "derived"],
        # A5, on line 2's start day, is still in line 1's window: 58 mm against the nadir 35, PD; day 365.
        [*ad1, "1", "ALECTINIB", "OVRLRESP", overall, "2022-01-10", "PD", "5", "365", "derived"],
        # Best of A1..A4 (up to the progression): PR, first met at A1.
        [*ad1, "1", "ALECTINIB", "BOR", best, "2021-02-01", "PR", "2", "22", "derived"],
        # Line 2 from 2022-01-10: its only target disappeared, CR on day 21 + 28 + 1 = 50 and day 50 + 61 = 111.
        [*ad1, "2", "LORLATINIB", "OVRLRESP", overall, "2022-03-01", "CR", "1", "50", "derived"],
        [*ad1, "2", "LORLATINIB", "OVRLRESP", overall, "2022-05-01", "CR", "1", "111", "derived"],
        [*ad1, "2", "LORLATINIB", "BOR", best, "2022-03-01", "CR", "1", "50", "derived"],
        # AD-2 has no baseline: the target response is NE, so B1 takes its reported SD (day 20), B2 stays a
        # derived NE (day 31 + 19 = 50). B3 is after the cut-off: no row.
        [*ad2, "1", "CRIZOTINIB", "OVRLRESP", overall, "2023-01-21", "SD", "3", "20", "reported"],
        [*ad2, "1", "CRIZOTINIB", "OVRLRESP", overall, "2023-02-20", "NE", "6", "50", "derived"],
        # SD on day 20 counts as NE (it is before day 42), so the best response is NE, first met at B1.
        [*ad2, "1", "CRIZOTINIB", "BOR", best, "2023-01-21", "NE", "6", "20", "reported"],
    ]


def test_tumor_sums_are_the_baseline_and_every_known_follow_up_sum_of_each_line(world, tmp_path):
    header, *rows = export_rows(tmp_path, "tumor_sums")

    assert header == ["record_id", "site", "studyid", "usubjid", "line_no", "paramcd", "adt", "aval", "ablfl",
                      "base", "chg", "pchg", "nadir", "pchg_nadir"]
    ad1, ad2 = _subject("AD-1"), _subject("AD-2")
    assert rows == [
        # Line 1: baseline 40 + 20 = 60 on A0; change 0, no nadir.
        [*ad1, "1", "SUMDIAM", "2021-01-05", "60", "Y", "60", "0", "0", "", ""],
        # A1 42: 42 - 60 = -18, -18 / 60 = -30 %; nadir so far the baseline 60: -30 %.
        [*ad1, "1", "SUMDIAM", "2021-02-01", "42", "", "60", "-18", "-30", "60", "-30"],
        # A2's sum is unknown: no row. A3 35: -25, -25 / 60 = -41.6666..; nadir 42 (A2 skipped): -7 / 42.
        [*ad1, "1", "SUMDIAM", "2021-05-10", "35", "", "60", "-25", "-41.666667", "42", "-16.666667"],
        # A4 51: -9, -15 %; nadir 35: 16 / 35 = 45.714285..
        [*ad1, "1", "SUMDIAM", "2021-08-02", "51", "", "60", "-9", "-15", "35", "45.714286"],
        # A5 58: -2, -3.3333.. %; the nadir stays 35 (51 is more): 23 / 35 = 65.714285..
        [*ad1, "1", "SUMDIAM", "2022-01-10", "58", "", "60", "-2", "-3.333333", "35", "65.714286"],
        # Line 2: A5 is its baseline (50 mm, on its start day).
        [*ad1, "2", "SUMDIAM", "2022-01-10", "50", "Y", "50", "0", "0", "", ""],
        [*ad1, "2", "SUMDIAM", "2022-03-01", "0", "", "50", "-50", "-100", "50", "-100"],
        # The nadir is now 0: no percent change from it.
        [*ad1, "2", "SUMDIAM", "2022-05-01", "0", "", "50", "-50", "-100", "0", ""],
        # AD-2: no baseline, so no baseline row and no base, change or nadir; B3 is after the cut-off.
        [*ad2, "1", "SUMDIAM", "2023-01-21", "30", "", "", "", "", "", ""],
        [*ad2, "1", "SUMDIAM", "2023-02-20", "28", "", "", "", "", "", ""],
    ]


def test_the_small_world_follows_the_adam_checks_too(world, tmp_path):
    # The checks of the demo cohort (tests/exports/test_adam_conformance.py) on CR, SD counted as NE, a
    # zero nadir and a line without a baseline, which the demo does not have.
    exported = {name: export_records(tmp_path, name) for name in ("responses", "tumor_sums", "lines", "assessments")}

    assert adam_conformance.response_problems(exported["responses"], exported["lines"], exported["assessments"]) == []
    assert adam_conformance.tumor_sum_problems(
        exported["tumor_sums"], exported["lines"], exported["assessments"]) == []


def test_trtp_is_the_regimens_label_in_capitals():
    # The data dictionary's line_drug labels 2, 6, 21 and 99, in capitals; no regimen, no TRTP.
    assert [datasets.treatment_label(code) for code in (2, 6, 21, 99, None)] == [
        "ALECTINIB", "IRUPLINIB (WX-0593)", "PEMETREXED + PLATINUM + BEVACIZUMAB", "OTHER", None,
    ]


def test_studyid_is_the_setting_the_results_were_derived_with(site_a, tmp_path):
    # Results derived before the setting existed carry no study_id: the default; then the one stored.
    make_derived_patient(site_a, "OLD")
    patient = factories.make_patient(site_a, "NEW")
    make_patient_derivation(patient, settings_snapshot={**SETTINGS_SNAPSHOT, "study_id": "WU-2024"})
    line = factories.make_line(patient, 1)
    make_line_derivation(line)
    make_assessment_derivation(factories.make_assessment(patient, date(2020, 5, 1)), line, overall_response="PR")

    records = export_records(tmp_path, "responses")

    assert [(row["record_id"], row["studyid"], row["usubjid"]) for row in records] == [
        ("NEW", "WU-2024", "WU-2024-NEW"), ("OLD", STUDY, f"{STUDY}-OLD"),
    ]


def test_a_de_identified_export_names_the_pseudonym_in_usubjid_and_shifts_adt_but_not_ady(
    world, tmp_path, settings,
):
    settings.DEIDENTIFICATION_KEY = KEY
    key = DeidentificationKey(KEY.encode(), "the same key")
    record_ids = {key.pseudonym(record_id): record_id for record_id in ("AD-1", "AD-2")}

    for name in ("responses", "tumor_sums"):
        for folder in ("identified", "deidentified"):
            (tmp_path / folder / name).mkdir(parents=True)
        identified = export_records(tmp_path / "identified" / name, name)
        records = export_records(tmp_path / "deidentified" / name, name, deidentify=True)

        text = (tmp_path / "deidentified" / name / f"{name}.csv").read_text(encoding="utf-8")
        assert "AD-1" not in text and "AD-2" not in text
        assert all(record["usubjid"] == f"{STUDY}-{record['record_id']}" for record in records)
        # Every date moved back by the patient's offset; ady (an interval) and the values did not move.
        shifted_back = sorted(
            (record_ids[record["record_id"]], record["line_no"], record["paramcd"],
             (date.fromisoformat(record["adt"]) + timedelta(days=key.date_offset_days(record_ids[record["record_id"]])))
             .isoformat(), record.get("ady"), record["aval"])
            for record in records
        )
        assert shifted_back == sorted(
            (record["record_id"], record["line_no"], record["paramcd"], record["adt"], record.get("ady"),
             record["aval"]) for record in identified
        )


def test_a_de_identified_export_of_a_data_cut_rewrites_usubjid_too(world, tmp_path, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    cut = data_cut_freeze(name="adam-cut")

    for name in ("responses", "tumor_sums"):
        (tmp_path / name).mkdir()
        records = export_records(tmp_path / name, name, deidentify=True, cut=cut)
        text = (tmp_path / name / f"{name}.csv").read_text(encoding="utf-8")

        assert records
        assert "AD-1" not in text and "AD-2" not in text
        assert all(record["usubjid"] == f"{STUDY}-{record['record_id']}" for record in records)


def test_a_data_cut_keeps_its_rows_when_the_records_change(world, tmp_path):
    cut = data_cut_freeze(name="adam-cut")
    for folder in ("before", "after", "live"):
        (tmp_path / folder).mkdir()
    before = {name: export_rows(tmp_path / "before", name, cut=cut) for name in ("responses", "tumor_sums")}

    Patient.objects.get(record_id="AD-2").delete()

    for name in ("responses", "tumor_sums"):
        assert export_rows(tmp_path / "after", name, cut=cut) == before[name]
        # The live rows did change: AD-2's are gone.
        live = export_rows(tmp_path / "live", name)
        assert live != before[name] and all(row[0] == "AD-1" for row in live[1:])


@pytest.mark.parametrize("name", ["responses", "tumor_sums"])
@pytest.mark.parametrize("patients", [2, 10])
def test_one_batch_of_patients_is_one_query(site_a, django_assert_num_queries, name, patients):
    for number in range(patients):
        make_derived_patient(site_a, f"P-{number:02d}")
    batch = export_patients(Patient.objects.all())

    # The batch's rows: responses, the assessment derivations JOIN their line LEFT JOIN its derivation and
    # the patient's; tumor_sums, the lines LEFT JOIN their derivation and their assessment derivations.
    with django_assert_num_queries(1):
        rows = list(exportable(name).dataset.batch_rows(batch))

    # make_derived_patient: one assessment (an OVRLRESP row, no best response), one baseline sum and one
    # known follow-up sum.
    assert len(rows) == {"responses": patients, "tumor_sums": 2 * patients}[name]


def test_the_codebook_describes_every_column_with_its_codes():
    responses = {column.name: column for column in exportable("responses").columns}
    tumor_sums = {column.name: column for column in exportable("tumor_sums").columns}

    assert responses["paramcd"].codes_text() == (
        "OVRLRESP, Overall time-point response of one follow-up assessment | "
        "BOR, Best overall response of the line, unconfirmed")
    assert [code for code, _ in responses["param"].codes] == [
        "Overall response by RECIST 1.1", "Best overall response by RECIST 1.1"]
    assert [code for code, _ in responses["avalc"].codes] == ["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"]
    # §8: aval 1 CR, 2 PR, 3 SD, 4 NON-CR/NON-PD, 5 PD, 6 NE.
    assert responses["aval"].value_labels == {
        1: "CR: Complete response", 2: "PR: Partial response", 3: "SD: Stable disease",
        4: "NON-CR/NON-PD: Non-CR/Non-PD (non-target lesions only)", 5: "PD: Progressive disease",
        6: "NE: Not evaluable"}
    assert (responses["ady"].unit, responses["adt"].kind.value) == ("days", "date")
    assert tumor_sums["paramcd"].codes_text() == "SUMDIAM, Sum of the diameters of the line's target lesions"
    assert tumor_sums["ablfl"].codes_text() == "Y, The line's baseline assessment"
    assert {name: tumor_sums[name].unit for name in ("aval", "base", "chg", "pchg", "nadir", "pchg_nadir")} == {
        "aval": "mm", "base": "mm", "chg": "mm", "pchg": "%", "nadir": "mm", "pchg_nadir": "%"}
    assert ("ALECTINIB", "line_drug 2") in responses["trtp"].codes
    assert all(column.label and column.source for column in (*responses.values(), *tumor_sums.values()))


@pytest.mark.parametrize("name", ["responses", "tumor_sums"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx", "parquet", "sav", "dta"])
def test_every_format_writes_the_rows(world, tmp_path, name, file_format):
    output = tmp_path / f"{name}.{file_format}"

    count = dataset_export(name=name, output=output, file_format=file_format)

    assert count == {"responses": 12, "tumor_sums": 10}[name]
    if file_format == "parquet":
        table = pq.read_table(output)
        assert table.num_rows == count
        assert table.column_names == list(exportable(name).dataset.columns)
        assert str(table.schema.field("adt").type) == "date32[day]"
    if file_format in ("sav", "dta"):
        reader = pyreadstat.read_sav if file_format == "sav" else pyreadstat.read_dta
        frame, meta = reader(str(output))
        assert meta.number_rows == count
        assert meta.column_names == list(exportable(name).dataset.columns)
        assert frame["line_no"].tolist()[0] == 1
        if name == "responses":
            assert frame["aval"].tolist()[:2] == [2, 6]  # A1 PR, A2 NE
            assert meta.variable_value_labels["aval"][5] == "PD: Progressive disease"
        else:
            assert frame["aval"].tolist()[:2] == [60, 42]


def test_the_command_exports_them(world, tmp_path):
    output = tmp_path / "tumor_sums.csv"
    call_command("export_dataset", "tumor_sums", "--output", str(output))

    with output.open(encoding="utf-8", newline="") as stream:
        assert len(list(csv.reader(stream))) == 1 + 10


def test_both_export_as_sas_transport_with_their_adam_member_names(world, tmp_path):
    responses, tumor_sums = tmp_path / "responses.xpt", tmp_path / "tumor_sums.xpt"

    dataset_export(name="responses", output=responses, file_format="xpt")
    dataset_export(name="tumor_sums", output=tumor_sums, file_format="xpt")

    response_data, response_meta = pyreadstat.read_xport(responses)
    sum_data, sum_meta = pyreadstat.read_xport(tumor_sums)
    assert (response_meta.table_name, sum_meta.table_name) == ("ADRS", "ADTR")
    # Names of at most 8 characters only: record_id, response_source and pchg_nadir are left out.
    assert response_meta.column_names == ["SITE", "STUDYID", "USUBJID", "LINE_NO", "TRTP", "PARAMCD", "PARAM", "ADT",
                                          "AVALC", "AVAL", "ADY"]
    assert sum_meta.column_names == ["SITE", "STUDYID", "USUBJID", "LINE_NO", "PARAMCD", "ADT", "AVAL", "ABLFL",
                                     "BASE", "CHG", "PCHG", "NADIR"]
    # The rows worked out above: AD-1 line 1's first OVRLRESP row and its baseline row.
    assert list(response_data.loc[0, ["USUBJID", "PARAMCD", "ADT", "AVALC", "AVAL", "ADY"]]) == [
        f"{STUDY}-AD-1", "OVRLRESP", date(2021, 2, 1), "PR", 2, 22]
    assert list(sum_data.loc[0, ["ADT", "AVAL", "ABLFL", "BASE", "CHG", "PCHG"]]) == [
        date(2021, 1, 5), 60, "Y", 60, 0, 0]
