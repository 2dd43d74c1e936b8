"""Rules §8 (v2): the derived facts behind the columns version 2 adds to `lines`, `endpoints` and
`patients`, each worked out by hand from the rule. Day numbers count from 2020-01-01; the cut-off is day
2000 unless given."""
from dataclasses import replace

from registry.derive.codes import Regimen, ReportedResponse
from registry.derive.results import DateSource

from .builders import assessment, biopsy, day, derive, line, patient, variant

PD, PR = ReportedResponse.PD, ReportedResponse.PR


def reported(*pairs):
    return [assessment(on, ta_reported=response) for on, response in pairs]


def flags(derivation):
    return [(result.line_no, result.subsequent_to_index, result.first_subsequent_line,
             result.first_subsequent_tki_line) for result in derivation.lines]


# ---------------------------------------------------------------- first subsequent lines

def test_the_first_line_after_the_index_and_the_first_alk_tki_line_after_it_are_marked():
    # cohort 1: alectinib PD day 300 (index). Docetaxel from day 310 and lorlatinib from day 500 are both
    # subsequent; docetaxel starts first (first_subsequent_line), lorlatinib is the first ALK TKI among them.
    derivation = derive(patient(
        lines=[line(1, Regimen.ALECTINIB, 0), line(2, Regimen.DOCETAXEL, 310), line(3, Regimen.LORLATINIB, 500),
               line(4, Regimen.BRIGATINIB, 800)],
        assessments=reported((300, PD)),
    ))

    assert flags(derivation) == [
        (1, False, False, False), (2, True, True, False), (3, True, False, True), (4, True, False, False)]


def test_without_a_subsequent_line_every_line_of_a_cohort_patient_is_zero():
    # cohort 1 (PD day 300) and no later line: 0 on the patient's lines, "also when none qualifies".
    derivation = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0)], assessments=reported((300, PD))))

    assert flags(derivation) == [(1, False, False, False)]


def test_first_subsequent_flags_are_blank_for_a_patient_in_no_cohort():
    # line 1 lorlatinib: no cohort, subsequent_to_index blank, and so are both flags.
    derivation = derive(patient(lines=[line(1, Regimen.LORLATINIB, 0), line(2, Regimen.DOCETAXEL, 400)],
                                assessments=reported((300, PD))))

    assert flags(derivation) == [(1, None, None, None), (2, None, None, None)]


def test_two_subsequent_lines_starting_the_same_day_are_told_apart_by_the_lowest_line_number():
    # cohort 1 (PD day 300); lines 3 and 2 both start on day 400 (a data-quality flag): line 2 is first.
    derivation = derive(patient(
        lines=[line(1, Regimen.ALECTINIB, 0), line(3, Regimen.LORLATINIB, 400), line(2, Regimen.BRIGATINIB, 400)],
        assessments=reported((300, PD)),
    ))

    assert flags(derivation) == [(1, False, False, False), (2, True, True, True), (3, True, False, False)]


def test_a_subsequent_line_of_unknown_type_makes_the_first_tki_line_unknown_until_a_certain_one():
    # cohort 1 (PD day 300); line 2 (day 310) has a coded line_type: it may be the first ALK TKI line, so
    # it and line 3 (lorlatinib, first if line 2 is not a TKI) are blank; line 4 comes after a certain
    # TKI line: 0. first_subsequent_line is known: line 2 starts first whatever its type.
    derivation = derive(patient(
        lines=[line(1, Regimen.ALECTINIB, 0), replace(line(2, Regimen.DOCETAXEL, 310), line_type=None),
               line(3, Regimen.LORLATINIB, 500), line(4, Regimen.BRIGATINIB, 800)],
        assessments=reported((300, PD)),
    ))

    assert flags(derivation) == [
        (1, False, False, False), (2, True, True, None), (3, True, False, None), (4, True, False, False)]


# ---------------------------------------------------------------- endpoint date sources

def test_pfs_and_os_sources_name_the_assessment_the_line_or_the_cut_off_with_its_instance():
    # alectinib (instance 4) from day 0: PR day 56 (instance 7), PD day 112 (instance 9): PFS ends at the
    # progression; lorlatinib (instance 5) from day 120 has no adequate assessment: censored at its start.
    # Nothing after day 120 and a cut-off on day 150: OS censored at the date last known alive (day 120,
    # lorlatinib's start: line_start is the only field with that date).
    record = patient(
        lines=[line(1, Regimen.ALECTINIB, 0, instance=4), line(2, Regimen.LORLATINIB, 120, instance=5)],
        assessments=[assessment(56, ta_reported=PR, instance=7), assessment(112, ta_reported=PD, instance=9)],
    )

    first, second = derive(record, cutoff=150).lines

    assert first.pfs_source == DateSource("tumor_assessment", "ta_date", 9)
    assert second.pfs_source == DateSource("treatment_line", "line_start", 5)
    assert first.os_source == second.os_source == DateSource("treatment_line", "line_start", 5)


def test_last_known_alive_ties_go_to_vital_status_then_assessment_biopsy_local_therapy_line_end_line_start():
    # day 300 is the latest date of the patient in every one of these fields at once.
    from .builders import local_therapy

    def os_source(**fields):
        base = dict(lines=[line(1, Regimen.ALECTINIB, 0, end=300, instance=1)],
                    assessments=[assessment(300, instance=2)], biopsies=[biopsy(300)],
                    local_therapies=[local_therapy(300)])
        base.update(fields)
        return derive(patient(**base), cutoff=1000).lines[0].os_source

    assert os_source(last_alive_date=day(300)) == DateSource("vital_status", "last_alive_date")
    assert os_source() == DateSource("tumor_assessment", "ta_date", 2)
    assert os_source(assessments=[]) == DateSource("biopsy", "bx_date", None)
    assert os_source(assessments=[], biopsies=[]) == DateSource("local_therapy", "lt_date", None)
    assert os_source(assessments=[], biopsies=[], local_therapies=[]) == DateSource(
        "treatment_line", "line_end", 1)


def test_death_and_cut_off_sources():
    # dead on day 150, no assessment: 150 ≤ 182 days after the line's start, so a PFS event too; dead on
    # day 400: 400 > 182, PFS censored at the line's start (death after missed assessments), OS a death.
    # Alive past a cut-off on day 200 (a line ends on day 300): OS censored at the cut-off.
    early = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0, instance=3)], vital=2, death_date=day(150)))
    late = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0, instance=3)], vital=2, death_date=day(400)))
    censored = derive(patient(lines=[line(1, Regimen.ALECTINIB, 0, end=300)]), cutoff=200)

    assert early.lines[0].pfs_source == early.lines[0].os_source == DateSource("vital_status", "death_date")
    assert late.lines[0].pfs_censor_reason == "death_after_missed_assessments"
    assert late.lines[0].pfs_source == DateSource("treatment_line", "line_start", 3)
    assert late.lines[0].os_source == DateSource("vital_status", "death_date")
    assert censored.lines[0].os_source == DateSource("settings", "data_cutoff")


# ---------------------------------------------------------------- patients

def test_last_known_alive_is_capped_at_the_cut_off_and_blank_for_a_death_on_or_before_it():
    lines = [line(1, Regimen.ALECTINIB, 0, end=300)]
    # alive, last date day 300: before a cut-off on day 400 it is day 300; past one on day 200 it is day 200
    assert derive(patient(lines=lines), cutoff=400).last_known_alive_date == day(300)
    assert derive(patient(lines=lines), cutoff=200).last_known_alive_date == day(200)
    # died on day 350: on or before the cut-off (day 350 or 400) → blank; after a cut-off on day 340 the
    # death is not one yet, so alive at the cut-off: day 340
    assert derive(patient(lines=lines, vital=2, death_date=day(350)), cutoff=350).last_known_alive_date is None
    assert derive(patient(lines=lines, vital=2, death_date=day(350)), cutoff=340).last_known_alive_date == day(340)
    # dead with a coded date of death: OS is censored at the date last known alive, which is kept
    assert derive(patient(lines=lines, vital=2, death_date_missing="UNK"),
                  cutoff=400).last_known_alive_date == day(300)


def test_n_lines_counts_the_lines_started_on_or_before_the_cut_off():
    # lines from days 0, 300 and 500; cut-off day 300: the line starting that day counts, day 500's not
    record = patient(lines=[line(1, Regimen.ALECTINIB, 0), line(2, Regimen.LORLATINIB, 300),
                            line(3, Regimen.DOCETAXEL, 500)])

    assert derive(record, cutoff=300).n_lines == 2
    assert derive(record, cutoff=500).n_lines == 3


def crizotinib_then_alectinib_then_lorlatinib(*biopsies, variants=()):
    """Cohort 2: crizotinib PD day 300, alectinib from day 330 with PD day 700 (the index), lorlatinib
    from day 760: biopsies from day 670 to 760 whose phase is post_2g are at the index resistance."""
    return patient(
        lines=[line(1, Regimen.CRIZOTINIB, 0), line(2, Regimen.ALECTINIB, 330), line(3, Regimen.LORLATINIB, 760)],
        assessments=reported((300, PD), (700, PD), (1000, PD)),
        biopsies=biopsies, variants=variants,
    )


def test_a_compound_mutation_at_the_index_resistance_is_one():
    # day 720 (post_2g, at the index): I1171N and G1202R, two distinct kinase-domain mutations → compound
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(
        biopsy(720), variants=[variant(720, "ALK", "I1171N"), variant(720, "ALK", "G1202R")]))

    assert (derivation.alk_mut_status_at_index, derivation.compound_mutation_at_index) == ("mutation", True)


def test_a_compound_mutation_outside_the_index_resistance_does_not_count():
    # compound on day 300 (post_1g, crizotinib's progression); day 720 has one mutation: status mutation, 0
    derivation = derive(crizotinib_then_alectinib_then_lorlatinib(
        biopsy(300), biopsy(720),
        variants=[variant(300, "ALK", "I1171N"), variant(300, "ALK", "G1202R"), variant(720, "ALK", "L1196M")]))

    assert [b.at_index_resistance for b in derivation.biopsies] == [False, True]
    assert (derivation.alk_mut_status_at_index, derivation.compound_mutation_at_index) == ("mutation", False)


def test_no_mutation_at_the_index_is_zero_and_not_assessed_is_blank():
    # a sequenced post_2g biopsy on day 690 without an ALK change: no_mutation → 0;
    # no biopsy at the index: not_assessed → blank
    sequenced = derive(crizotinib_then_alectinib_then_lorlatinib(biopsy(690)))
    nothing = derive(crizotinib_then_alectinib_then_lorlatinib())

    assert (sequenced.alk_mut_status_at_index, sequenced.compound_mutation_at_index) == ("no_mutation", False)
    assert (nothing.alk_mut_status_at_index, nothing.compound_mutation_at_index) == ("not_assessed", None)


def test_compound_mutation_at_index_is_blank_in_no_cohort():
    derivation = derive(patient(lines=[line(1, Regimen.LORLATINIB, 0)], assessments=reported((300, PD)),
                                biopsies=[biopsy(310)],
                                variants=[variant(310, "ALK", "I1171N"), variant(310, "ALK", "G1202R")]))

    assert (derivation.cohort, derivation.compound_mutation_at_index) == (None, None)

