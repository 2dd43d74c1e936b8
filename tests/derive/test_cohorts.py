"""§6 cohorts, index progression, subsequent lines and the TKI sequence."""
from registry.derive.codes import LineType, Regimen, ReportedResponse

from .builders import assessment, day, derive, line, patient

PD, PR = ReportedResponse.PD, ReportedResponse.PR


def reported(*pairs):
    return [assessment(on, ta_reported=response) for on, response in pairs]


def test_first_line_alectinib_with_progression_is_cohort_one():
    # given line 1 alectinib with PD on day 300 → cohort 1, index progression day 300 of line 1
    derivation = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0)], assessments=reported((300, PD))))
    assert (derivation.cohort, derivation.index_line_no, derivation.index_pd_date) == (1, 1, day(300))


def test_first_line_alectinib_without_progression_is_in_no_cohort():
    derivation = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0)], assessments=reported((300, PR))))
    assert (derivation.cohort, derivation.index_pd_date) == (None, None)
    assert derivation.lines[0].subsequent_to_index is None


def test_crizotinib_then_second_generation_from_its_progression_is_cohort_two():
    # given crizotinib PD day 300, brigatinib from day 300 (on the progression day) with PD day 700
    # → cohort 2; index = the brigatinib progression, day 700
    derivation = derive(patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.BRIGATINIB, 300)],
        assessments=reported((300, PD), (700, PD)),
    ))
    assert (derivation.cohort, derivation.index_line_no, derivation.index_pd_date) == (2, 2, day(700))


def test_chemotherapy_between_crizotinib_and_the_second_generation_line_still_makes_cohort_two():
    # given crizotinib PD day 300, chemotherapy from 300, alectinib from 500 with PD day 800:
    # the next ALK TKI line is alectinib → cohort 2
    derivation = derive(patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.PEMETREXED_PLATINUM, 300),
               line(3, Regimen.ALECTINIB, 500)],
        assessments=reported((300, PD), (800, PD)),
    ))
    assert (derivation.cohort, derivation.index_line_no) == (2, 3)


def test_second_generation_line_started_before_the_crizotinib_progression_is_not_cohort_two():
    # given alectinib started on day 250 and a PD on day 300: crizotinib's window ends on day 250
    # (§1), so the PD is alectinib's, crizotinib has no progression → no cohort
    derivation = derive(patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.ALECTINIB, 250)],
        assessments=reported((300, PD), (700, PD)),
    ))
    assert [result.pd_date for result in derivation.lines] == [None, day(300)]
    assert derivation.cohort is None


def test_crizotinib_then_lorlatinib_is_not_cohort_two():
    # given the next ALK TKI is third-generation → no cohort
    derivation = derive(patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.LORLATINIB, 300)],
        assessments=reported((300, PD), (700, PD)),
    ))
    assert derivation.cohort is None


def test_crizotinib_then_second_generation_without_its_own_progression_is_not_cohort_two():
    derivation = derive(patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.CERITINIB, 300)],
        assessments=reported((300, PD), (700, PR)),
    ))
    assert derivation.cohort is None


def test_first_line_chemotherapy_is_in_no_cohort():
    derivation = derive(patient(lines=[line(1, Regimen.PEMETREXED_PLATINUM, 0), line(2, Regimen.ALECTINIB, 200)],
                                assessments=reported((100, PD), (400, PD))))
    assert derivation.cohort is None


def test_lines_after_the_index_progression_are_subsequent_to_it():
    # given cohort 1 with index PD day 300 on line 1; line 2 from day 300 and line 3 from day 600
    # line 1: line_no not greater → no; lines 2 and 3: greater and start ≥ day 300 → yes
    derivation = derive(patient(
        lines=[line(1, Regimen.ALECTINIB, 0), line(2, Regimen.LORLATINIB, 300),
               line(3, Regimen.DOCETAXEL, 600)],
        assessments=reported((300, PD)),
    ))
    assert [result.subsequent_to_index for result in derivation.lines] == [False, True, True]


def test_tki_sequence_lists_the_alk_inhibitors_in_order():
    # given crizotinib, chemotherapy, alectinib, lorlatinib → "crizotinib>alectinib>lorlatinib"
    derivation = derive(patient(lines=[
        line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.PEMETREXED_PLATINUM, 100),
        line(3, Regimen.ALECTINIB, 200), line(4, Regimen.LORLATINIB, 300),
    ]))
    assert derivation.tki_sequence == "crizotinib>alectinib>lorlatinib"


def test_tki_sequence_names_iruplinib_and_an_other_inhibitor_by_name():
    derivation = derive(patient(lines=[
        line(1, Regimen.IRUPLINIB, 0),
        line(2, Regimen.OTHER, 100, line_type=LineType.ALK_TKI, line_drug_other="Gilteritinib ",
             line_tki_generation=3),
    ]))
    assert derivation.tki_sequence == "iruplinib>gilteritinib"
    assert [result.tki_generation for result in derivation.lines] == [2, 3]


def test_tki_sequence_is_blank_without_alk_inhibitor():
    derivation = derive(patient(lines=[line(1, Regimen.DOCETAXEL, 0)]))
    assert derivation.tki_sequence is None
