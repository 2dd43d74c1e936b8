"""What the flat import works out once instead of per row (registry/records/flat_import.py) gives what
the per-row way gave: a new instance built from positional arguments equals Model(...) with keywords,
the checkbox rules found per instrument hold on every instrument that has them and on no other, the
warnings read back without a patient instance per row still name each row's own record, and a parsed
date or number remembered for its column never answers for another column or for a refused text."""
from datetime import date

import pytest
from django.db.models.expressions import DatabaseDefault

from registry.models import TreatmentLine
from registry.records import flat_import as flat_import_module
from registry.records.flat_import import FlatImport, _new_instances
from registry.records.instruments import INSTRUMENTS, REPEATING_INSTRUMENTS
from registry.records.soft_checks import FUTURE_DATE, TARGET_CHANGE
from registry.services.records import records_import
from tests.records.flat_files import EMPTY, instance_row, record_row, row_counts, write_csv

pytestmark = pytest.mark.django_db

ENROLLED = {"sex": "2", "adv_dx_date": "2020-01-10"}
ASSESSED = {"ta_new_lesion": "0"}


def _field_values(instance) -> dict:
    values = {}
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        # Two DatabaseDefault expressions of one field are equal (the same expression); named to compare.
        values[field.attname] = ("database default", value.identity) if isinstance(value, DatabaseDefault) else value
    return values


@pytest.mark.parametrize("instrument", REPEATING_INSTRUMENTS)
def test_a_new_instance_from_positional_arguments_equals_one_from_keywords(instrument):
    model = INSTRUMENTS[instrument].model

    built = _new_instances(model).new(7, 3)
    expected = model(patient_id=7, redcap_repeat_instance=3)

    assert _field_values(built) == _field_values(expected)
    assert built.patient_id == 7 and built.redcap_repeat_instance == 3 and built.pk is None
    assert built._state.adding is True and built._state.db is None


def test_new_instances_do_not_share_what_one_of_them_is_given():
    # The template's values are copied for each instance: setting a value on one leaves the next as new.
    new_instances = _new_instances(INSTRUMENTS["tumor_assessment"].model)
    first = new_instances.new(1, 1)
    first.ta_scope_1 = True
    first.tumor_assessment_complete = 2

    second = new_instances.new(2, 1)

    assert second.ta_scope_1 is False and second.tumor_assessment_complete == 0
    assert second.patient_id == 2


def test_a_checkbox_code_beside_a_ticked_option_is_refused_on_a_record_row_and_on_an_assessment_row(site_a, tmp_path):
    # The checkbox rules are looked up by instrument (record row: alk_method; tumor assessment: ta_scope and
    # ta_new_sites); a lesion row has no checkbox field that takes a code and passes.
    path = write_csv(tmp_path, "codes.csv", [
        record_row("CB-1", **ENROLLED, alk_method___1="1", alk_method___unk="1"),
        record_row("CB-2", **ENROLLED),
        instance_row("CB-2", "tumor_assessment", 1, ta_date="2020-02-01", ta_scope___2="1", ta_scope___unk="1",
                     **ASSESSED),
        instance_row("CB-2", "lesion", 1, les_id="L1", les_line="1", les_class="1", les_site="1"),
    ])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert [(p.record, p.instrument, p.field, p.value, p.reason) for p in result.problems] == [
        ("CB-1", "enrollment", "alk_method___unk", "1",
         "ticks the missing-data code UNK while alk_method___1 is ticked: a checkbox field holds ticked options "
         "or a code, never both"),
        ("CB-2", "tumor_assessment", "ta_scope___unk", "1",
         "ticks the missing-data code UNK while ta_scope___2 is ticked: a checkbox field holds ticked options "
         "or a code, never both"),
    ]
    assert row_counts() == EMPTY


def test_warnings_name_each_rows_own_record_and_a_measurements_lesion_and_scan(site_a, tmp_path):
    # TG-1's target lesion L1: 20 mm on 2020-01-05, then 41 mm on 2020-04-05: (41 - 20) / 20 = 105 %,
    # more than the default 50 % (WorkspaceSettings.target_change_percent), rounded to 105 %.
    # TG-2's lesion L1 is the same identifier in another record, 20 then 22 mm (10 %): no warning.
    # TG-2's line starts in the future (2999): a warning on TG-2, not on TG-1.
    scans = [("2020-01-05", 1), ("2020-04-05", 2)]
    rows = []
    for record, second_mm in (("TG-1", "41"), ("TG-2", "22")):
        rows.append(record_row(record, **ENROLLED))
        rows += [instance_row(record, "tumor_assessment", number, ta_date=day, **ASSESSED) for day, number in scans]
        rows.append(instance_row(record, "lesion", 1, les_id="L1", les_line="1", les_class="1", les_site="1"))
        rows += [instance_row(record, "lesion_measurement", number, lm_date=day, lm_lesion="L1", lm_status="1",
                              lm_mm=mm) for (day, number), mm in zip(scans, ("20", second_mm))]
    rows.append(instance_row("TG-2", "treatment_line", 1, line_no="1", line_type="1", line_drug="2",
                             line_start="2999-01-01"))

    result = records_import(source=write_csv(tmp_path, "tg.csv", rows), file_format="csv", site=site_a, user=None)

    assert result.problems == []
    assert [(w.record, w.form, w.instance, w.field, w.value, w.check) for w in result.warnings] == [
        ("TG-1", "lesion_measurement", 2, "lm_mm", "41", TARGET_CHANGE),
        ("TG-2", "treatment_line", 1, "line_start", "2999-01-01", FUTURE_DATE),
    ]
    assert result.warnings[0].message == (
        "Target lesion L1: 41 mm on 2020-04-05 is 105% larger than 20 mm on 2020-01-05; changes of more than "
        "50% are asked about (a typing slip?).")


LINE = {"line_type": "1", "line_drug": "2"}


def _flat_import(source, site) -> FlatImport:
    return FlatImport(source=source, file_format="csv", site=site, user=None, overwrite=False, change_reason="test",
                      max_changes=100, max_problems=100, dry_run=False)


def test_a_text_parsed_in_one_column_is_still_refused_in_a_column_it_does_not_fit(site_a, tmp_path):
    # "2020-01-05" is a date: line 1's start (parsed and remembered for line_start) and line 2's start; it is
    # not a whole number, so line 2's line number is refused. "12.5" is a diameter (lm_mm, a number) and is
    # not a whole number of new lesions (ta_new_count, an integer).
    path = write_csv(tmp_path, "leak.csv", [
        record_row("PC-1", **ENROLLED),
        instance_row("PC-1", "treatment_line", 1, line_no="1", line_start="2020-01-05", **LINE),
        instance_row("PC-1", "treatment_line", 2, line_no="2020-01-05", line_start="2020-01-05", **LINE),
        instance_row("PC-1", "tumor_assessment", 1, ta_date="2020-01-05", ta_new_lesion="1", ta_new_count="12.5"),
        instance_row("PC-1", "lesion", 1, les_id="L1", les_line="1", les_class="1", les_site="1"),
        instance_row("PC-1", "lesion_measurement", 1, lm_date="2020-01-05", lm_lesion="L1", lm_status="1",
                     lm_mm="12.5"),
    ])

    result = records_import(source=path, file_format="csv", site=site_a, user=None)

    assert [(p.record, p.instance, p.field, p.value, p.reason) for p in result.problems] == [
        ("PC-1", "2", "line_no", "2020-01-05", "is not a whole number"),
        ("PC-1", "1", "ta_new_count", "12.5", "is not a whole number"),
        # the assessment refused is not there for the measurement; its diameter 12.5 itself was accepted
        ("PC-1", "1", "lm_date", "2020-01-05", "no tumor assessment of this patient is dated 2020-01-05"),
    ]
    assert row_counts() == EMPTY


def test_a_refused_text_is_reported_on_every_row_and_a_valid_one_after_it_still_parses(site_a, tmp_path):
    # 2021-02-30 is no calendar date: each of the two lines giving it is reported (a refused text is never
    # remembered); line 3's 2021-02-28, in the same column after it, is a date.
    path = write_csv(tmp_path, "bad.csv", [
        record_row("PC-2", **ENROLLED),
        instance_row("PC-2", "treatment_line", 1, line_no="1", line_start="2021-02-30", **LINE),
        instance_row("PC-2", "treatment_line", 2, line_no="2", line_start="2021-02-30", **LINE),
        instance_row("PC-2", "treatment_line", 3, line_no="3", line_start="2021-02-28", **LINE),
    ])

    flat_import = _flat_import(path, site_a)
    result = flat_import.run()

    assert [(p.instance, p.field, p.value, p.reason) for p in result.problems] == [
        ("1", "line_start", "2021-02-30", "is not a real calendar date"),
        ("2", "line_start", "2021-02-30", "is not a real calendar date"),
    ]
    assert flat_import.parsed_texts["line_start"] == {"2021-02-28": date(2021, 2, 28)}
    assert flat_import.parsed_texts["line_no"] == {"1": 1, "2": 2, "3": 3}


def test_the_parsed_texts_kept_per_column_are_bounded_and_the_rest_still_parse(site_a, tmp_path, monkeypatch):
    monkeypatch.setattr(flat_import_module, "PARSED_TEXTS_KEPT", 2)
    starts = ["2021-01-01", "2021-02-01", "2021-03-01", "2021-02-01"]
    path = write_csv(tmp_path, "many.csv", [
        record_row("PC-3", **ENROLLED),
        *(instance_row("PC-3", "treatment_line", number, line_no=str(number), line_start=start, **LINE)
          for number, start in enumerate(starts, start=1)),
    ])

    flat_import = _flat_import(path, site_a)
    result = flat_import.run()

    assert result.problems == []
    assert flat_import.parsed_texts["line_start"] == {"2021-01-01": date(2021, 1, 1), "2021-02-01": date(2021, 2, 1)}
    stored = TreatmentLine.objects.filter(patient__record_id="PC-3").order_by("line_no")
    assert [line.line_start for line in stored] == [date(2021, 1, 1), date(2021, 2, 1), date(2021, 3, 1),
                                                     date(2021, 2, 1)]
