"""§1 lines of therapy: order, generation, windows and baselines; §8 age and histology at start."""
from datetime import date

from registry.derive.codes import Histology, LineType, Regimen
from registry.derive.lines import tki_generation

from .builders import NO, YES, assessment, biopsy, day, derive, line, local_therapy, patient


def test_lines_are_ordered_by_start_date_then_line_number():
    # given lines entered as (3, day 400), (1, day 0), (2, day 0) → order 1, 2, 3
    derivation = derive(patient(lines=[line(3, start=400), line(1, start=0), line(2, start=0)]))
    assert [result.line_no for result in derivation.lines] == [1, 2, 3]


def test_tki_generation_of_each_inhibitor():
    # §1: crizotinib 1; alectinib, ceritinib, brigatinib, ensartinib, iruplinib 2; lorlatinib 3
    drugs = [Regimen.CRIZOTINIB, Regimen.ALECTINIB, Regimen.CERITINIB, Regimen.BRIGATINIB,
             Regimen.ENSARTINIB, Regimen.IRUPLINIB, Regimen.LORLATINIB]
    assert [tki_generation(line(1, drug)) for drug in drugs] == [1, 2, 2, 2, 2, 2, 3]


def test_other_inhibitor_takes_its_recorded_generation_and_chemotherapy_has_none():
    other = line(1, Regimen.OTHER, line_type=LineType.ALK_TKI, line_tki_generation=2)
    other_chemotherapy = line(1, Regimen.OTHER, line_type=LineType.OTHER, line_tki_generation=None)
    assert tki_generation(other) == 2
    assert tki_generation(other_chemotherapy) is None
    assert tki_generation(line(1, Regimen.DOCETAXEL)) is None


def test_assessment_on_the_next_lines_start_belongs_to_the_line_and_is_the_next_baseline():
    # given line 1 from day 0, line 2 from day 200 and assessments on days 100 and 200
    # line 1's window is (day 0, day 200]: both; line 2's baseline is day 200, not a follow-up
    derivation = derive(patient(lines=[line(1, start=0), line(2, Regimen.LORLATINIB, start=200)],
                                assessments=[assessment(0), assessment(100), assessment(200)]))
    first, second = derivation.lines
    assert [a.ta_date for a in first.assessments] == [day(100), day(200)]
    assert first.baseline_date == day(0)
    assert second.baseline_date == day(200)
    assert second.assessments == ()


def test_baseline_may_precede_the_start_by_at_most_sixty_days():
    # given assessments 61 and 60 days before the start → the latest, 60 days before, is baseline
    derivation = derive(patient(lines=[line(1, start=100)], assessments=[assessment(39), assessment(40)]))
    assert derivation.lines[0].baseline_date == day(40)


def test_assessment_sixty_one_days_before_the_start_is_no_baseline():
    derivation = derive(patient(lines=[line(1, start=100)], assessments=[assessment(39)]))
    assert derivation.lines[0].baseline_date is None


def test_local_therapy_does_not_start_a_new_line():
    # given SBRT on day 50 between assessments on days 30 and 90 → both remain line 1 follow-ups
    derivation = derive(patient(lines=[line(1, start=0)], assessments=[assessment(30), assessment(90)],
                                local_therapies=[local_therapy(50)]))
    assert [a.ta_date for a in derivation.lines[0].assessments] == [day(30), day(90)]


def test_age_is_completed_years_on_the_date():
    # given born 1970-01-02: on 2020-01-01 (line start, day 0) 49 completed years; on adv_dx
    # 2020-01-02 (day 1) 50
    derivation = derive(patient(lines=[line(1, start=0)], birth_date=date(1970, 1, 2), adv_dx_date=day(1)))
    assert derivation.lines[0].age_at_start == 49
    assert derivation.age_at_adv_dx == 50


def test_histology_at_start_shows_a_transformation_seen_on_an_earlier_adequate_biopsy():
    # given adenocarcinoma at diagnosis, an adequate squamous biopsy on day 150, line 2 from day 200:
    # line 1 (day 0) → adenocarcinoma; line 2 → squamous
    derivation = derive(patient(lines=[line(1, start=0), line(2, Regimen.LORLATINIB, start=200)],
                                histology=Histology.ADENOCARCINOMA,
                                biopsies=[biopsy(150, histology=Histology.SQUAMOUS)]))
    assert [result.histology_at_start for result in derivation.lines] == [Histology.ADENOCARCINOMA,
                                                                           Histology.SQUAMOUS]


def test_histology_at_start_ignores_inadequate_unassessed_and_same_day_biopsies():
    # given line 2 from day 200 and, before it, an inadequate small-cell biopsy (day 150), a
    # "Not assessed" adequate one (day 180) and a squamous one on day 200 (not before the start)
    # → the diagnosis histology
    derivation = derive(patient(
        lines=[line(1, start=0), line(2, Regimen.LORLATINIB, start=200)],
        histology=Histology.ADENOCARCINOMA,
        biopsies=[biopsy(150, adequate=NO, histology=Histology.SMALL_CELL),
                  biopsy(180, adequate=YES, histology=Histology.NOT_ASSESSED),
                  biopsy(200, histology=Histology.SQUAMOUS)],
    ))
    assert derivation.lines[1].histology_at_start == Histology.ADENOCARCINOMA


def test_derivation_is_pure_and_imports_nothing_from_django():
    # given the same record twice → equal results carrying the settings and rules version 1;
    # and importing the package in a fresh interpreter loads no Django module
    import subprocess
    import sys
    from pathlib import Path

    record = patient(lines=[line(1)], assessments=[assessment(0), assessment(56)])
    first, second = derive(record, cutoff=400), derive(record, cutoff=400)
    assert first == second
    assert (first.rules_version, first.settings.data_cutoff) == (2, day(400))  # rules version 2 (issue 13)
    probe = "import sys, registry.derive.patient; print(any(m.startswith('django') for m in sys.modules))"
    project_root = Path(__file__).resolve().parents[2]
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=project_root)
    assert loaded.stdout.strip() == "False"
