"""What the swimmer and waterfall plots draw, from hand-built study cohorts (no database).

Each expected value is worked out from the rules in registry/reports/study_figures.py's docstring;
months are days / 30.4375 with the day counts written out in the comments.
"""
from datetime import date
from decimal import Decimal

import pytest

from registry.reports.study_figures import TREATMENT_COLOURS, swimmer, waterfall
from registry.selectors.study_cohort import StudyCohort, StudyLine, StudyPatient

DAYS_PER_MONTH = Decimal("30.4375")
CUTOFF = date(2024, 2, 28)


def months(days: int) -> float:
    return days / 30.4375


def line(line_no: int, line_start: date, *, line_type=1, line_drug=2, tki_generation=2, **values) -> StudyLine:
    fields = {name: None for name in StudyLine.__dataclass_fields__}
    fields.update(line_no=line_no, line_type=line_type, line_drug=line_drug, tki_generation=tki_generation,
                  line_start=line_start, extent="", best_response="")
    fields.update(values)
    return StudyLine(**fields)


def patient(record_id: str, lines: list[StudyLine], *, index_line_no: int = 1, cohort: int = 1) -> StudyPatient:
    return StudyPatient(record_id=record_id, site_code="a", sex=None, smoking=None, stage_dx=None, cohort=cohort,
                        index_line_no=index_line_no, index_pd_date=date(2020, 1, 1), alk_mut_status_at_index="",
                        dead_at_cutoff=None, lines=tuple(lines), biopsies=())


def cohort(*patients: StudyPatient) -> StudyCohort:
    return StudyCohort(patients=tuple(sorted(patients, key=lambda p: p.record_id)), derivations=())


def rows_of(*patients, cutoff=CUTOFF):
    return swimmer(cohort(*patients), cutoff=cutoff, days_per_month=DAYS_PER_MONTH)


# ------------------------------------------------------------------------------------------ swimmer

def test_a_cohort_2_patient_is_drawn_from_the_index_line_and_each_line_ends_where_the_next_starts():
    # given crizotinib (line 1, before the index: not drawn), alectinib (index, line 2) from 2021-01-01
    # with no end date and progression 2021-07-01, then docetaxel from 2021-08-01 ended 2021-11-01,
    # and death 2022-01-31
    os = {"os_date": date(2022, 1, 31), "os_event": True}
    lines = [
        line(1, date(2019, 6, 1), line_drug=1, tki_generation=1, pd_date=date(2020, 12, 1), **os),
        line(2, date(2021, 1, 1), pd_date=date(2021, 7, 1), **os),
        line(3, date(2021, 8, 1), line_type=2, line_drug=22, tki_generation=None, line_end=date(2021, 11, 1), **os),
    ]

    result = rows_of(patient("P-2", lines, index_line_no=2, cohort=2))

    (row,) = result["rows"]
    # days from 2021-01-01: 1 July 181, 1 August 212, 1 November 304, 31 January 2022 395
    assert row["record_id"] == "P-2" and row["cohort"] == 2
    assert [(bar["line_no"], bar["treatment"], bar["regimen"]) for bar in row["bars"]] == [
        (2, "alk_tki_2g", "Alectinib"), (3, "chemotherapy", "Docetaxel")]
    index_bar, chemotherapy_bar = row["bars"]
    assert (index_bar["start_months"], index_bar["end_months"]) == (0.0, pytest.approx(months(212)))
    assert index_bar["progression_months"] == pytest.approx(months(181))
    assert (chemotherapy_bar["start_months"], chemotherapy_bar["end_months"]) == (
        pytest.approx(months(212)), pytest.approx(months(304)))
    assert chemotherapy_bar["progression_months"] is None
    assert not index_bar["ongoing"] and not chemotherapy_bar["ongoing"]
    # off treatment from 1 November, dead at 395 days: the cross at the end of follow-up
    assert row["follow_up_months"] == pytest.approx(months(395)) and row["died"] is True
    assert result["patients_not_shown"] == 0


def test_the_last_line_without_an_end_in_a_living_patient_is_ongoing_to_the_end_of_follow_up():
    # given lorlatinib from 2023-03-01, no end date, last known alive at the cut-off 2024-02-28
    lines = [line(1, date(2023, 3, 1), line_drug=7, tki_generation=3, os_date=CUTOFF, os_event=False)]

    (row,) = rows_of(patient("P-1", lines))["rows"]

    (bar,) = row["bars"]
    # 2023-03-01 to 2024-02-28: 364 days (2024's 29 February not reached)
    assert bar["ongoing"] is True and bar["end_months"] == pytest.approx(months(364))
    assert bar["treatment"] == "alk_tki_3g"
    assert row["died"] is False and row["follow_up_months"] == pytest.approx(months(364))


def test_a_line_end_after_the_cut_off_means_ongoing_at_the_cut_off():
    # rules §0: a line_end after the cut-off means the line was ongoing at it
    lines = [line(1, date(2024, 1, 1), line_end=date(2024, 6, 1), os_date=CUTOFF, os_event=False)]

    (bar,) = rows_of(patient("P-1", lines))["rows"][0]["bars"]

    assert bar["ongoing"] is True and bar["end_months"] == pytest.approx(months(58))  # 31 + 27 days


def test_a_patient_who_died_on_treatment_has_no_arrow_but_a_cross():
    lines = [line(1, date(2023, 1, 1), os_date=date(2023, 4, 11), os_event=True)]

    (row,) = rows_of(patient("P-1", lines))["rows"]

    (bar,) = row["bars"]
    assert bar["ongoing"] is False and bar["end_months"] == pytest.approx(months(100))  # 31+28+31+10
    assert row["died"] is True and row["follow_up_months"] == pytest.approx(months(100))


def test_a_line_starting_after_the_cut_off_is_not_drawn():
    os = {"os_date": CUTOFF, "os_event": False}
    lines = [line(1, date(2023, 1, 1), **os), line(2, date(2024, 3, 1), line_drug=7, tki_generation=3, **os)]

    (row,) = rows_of(patient("P-1", lines))["rows"]

    # line 1 is then the last line, without an end: ongoing to the end of follow-up (365 + 58 days)
    assert [bar["line_no"] for bar in row["bars"]] == [1]
    assert row["bars"][0]["ongoing"] is True and row["bars"][0]["end_months"] == pytest.approx(months(423))


def test_rows_are_sorted_by_follow_up_longest_first_then_by_record_id():
    def alive_until(record_id, start):
        return patient(record_id, [line(1, start, os_date=date(2023, 12, 31), os_event=False)])

    result = rows_of(alive_until("P-3", date(2023, 6, 1)), alive_until("P-1", date(2023, 6, 1)),
                     alive_until("P-2", date(2022, 1, 1)))

    assert [row["record_id"] for row in result["rows"]] == ["P-2", "P-1", "P-3"]


def test_a_patient_whose_follow_up_is_not_derived_is_counted_as_not_shown():
    # given no OS (no cut-off, or a cut frozen before the plots' columns were kept)
    result = rows_of(patient("P-1", [line(1, date(2023, 1, 1))]),
                     patient("P-2", [line(1, date(2023, 1, 1), os_date=CUTOFF, os_event=False)]))

    assert [row["record_id"] for row in result["rows"]] == ["P-2"]
    assert result["patients_not_shown"] == 1


def test_colours_follow_the_drug_class_and_the_legend_lists_only_the_classes_drawn():
    os = {"os_date": CUTOFF, "os_event": False}
    lines = [
        line(1, date(2021, 1, 1), **os),  # alectinib: second generation
        line(2, date(2021, 6, 1), line_type=3, line_drug=21, tki_generation=None, **os),  # chemo + bevacizumab
        line(3, date(2022, 1, 1), line_type=4, line_drug=99, tki_generation=None, **os),  # immunotherapy
        line(4, date(2022, 6, 1), line_drug=99, tki_generation=None, **os),  # another ALK-TKI, generation unknown
    ]

    result = rows_of(patient("P-1", lines))

    assert [bar["treatment"] for bar in result["rows"][0]["bars"]] == [
        "alk_tki_2g", "chemotherapy_antiangiogenic", "immunotherapy", "alk_tki_other"]
    assert [entry["key"] for entry in result["treatments"]] == [
        "alk_tki_2g", "alk_tki_other", "chemotherapy_antiangiogenic", "immunotherapy"]
    assert result["treatments"][0]["colour"] == TREATMENT_COLOURS["alk_tki_2g"] == "#0072B2"


# ---------------------------------------------------------------------------------------- waterfall

def test_the_waterfall_has_a_bar_per_line_with_a_measured_change_largest_increase_first():
    def changed(line_no, start, percent, response):
        return line(line_no, start, best_pct_change_baseline=None if percent is None else Decimal(percent),
                    best_response=response)

    p1 = patient("P-1", [changed(1, date(2021, 1, 1), "-45.5", "PR"), changed(2, date(2022, 1, 1), "12", "SD")])
    # P-2: cohort 2, its line 1 (crizotinib) is before the index line: not a bar even with a change
    p2 = patient("P-2", [changed(1, date(2019, 1, 1), "-80", "PR"), changed(2, date(2021, 1, 1), "12", "PD"),
                         changed(3, date(2022, 1, 1), None, "")], index_line_no=2, cohort=2)

    result = waterfall(cohort(p1, p2), cutoff=CUTOFF)

    # +12 (P-1 line 2 and P-2 line 2: tied, by record ID), then -45.5
    assert [(bar["record_id"], bar["line_no"], bar["best_pct_change"], bar["best_response"])
            for bar in result["bars"]] == [("P-1", 2, 12.0, "SD"), ("P-2", 2, 12.0, "PD"), ("P-1", 1, -45.5, "PR")]
    assert [bar["index_line"] for bar in result["bars"]] == [False, True, True]
    assert result["lines_not_shown"] == 1  # P-2 line 3: no measured target sum
    assert [entry["key"] for entry in result["responses"]] == ["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"]
    assert result["recist_lines_percent"] == [-30, 20]


def test_an_empty_cohort_draws_nothing_and_leaves_nothing_out():
    result = waterfall(cohort(), cutoff=CUTOFF)
    assert result["bars"] == [] and result["lines_not_shown"] == 0
    assert rows_of()["rows"] == [] and rows_of()["patients_not_shown"] == 0


def test_a_line_without_best_response_fields_still_loads_from_an_old_cut():
    # A data cut frozen before the plots' columns: StudyLine's defaults
    fields = {name: None for name in StudyLine.__dataclass_fields__
              if name not in {"line_end", "best_response", "os_date", "best_pct_change_baseline"}}
    old = StudyLine(**{**fields, "line_no": 1, "line_type": 1, "line_drug": 2, "line_start": date(2021, 1, 1),
                       "extent": ""})

    assert (old.line_end, old.best_response, old.os_date, old.best_pct_change_baseline) == (None, "", None, None)
    assert rows_of(patient("P-1", [old]))["patients_not_shown"] == 1
    assert waterfall(cohort(patient("P-1", [old])), cutoff=CUTOFF)["lines_not_shown"] == 1
