"""The demo cohort: a committed REDCap file that is exactly what its plan builds, loaded once."""
import csv
import dataclasses
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.derive.survival import CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS, CENSORED_NEW_THERAPY
from registry.models import AnalysisSettings, AssessmentDerivation, LineDerivation, Patient, PatientDerivation, Site
from registry.services import demo_cohort
from registry.services.records import records_export


def test_the_committed_file_is_what_the_cohorts_plan_builds():
    # If this fails, the plan changed without the fixture: run `python manage.py demo_cohort_fixture`.
    built = io.StringIO()
    demo_cohort.write_demo_cohort(built)

    assert demo_cohort.DEMO_COHORT_FILE.read_text(encoding="utf-8") == built.getvalue()


def test_the_cohort_holds_73_patients_with_raw_records_only():
    header, *rows = demo_cohort.DEMO_COHORT_FILE.read_text(encoding="utf-8").splitlines()
    record_ids = {row.split(",", 1)[0] for row in rows}

    assert len(record_ids) == 73
    # REDCap's flat export of this project's dictionary: no derived column (cohort, pd_date, ...).
    assert header.split(",")[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert not {"cohort", "pd_date", "extent", "pfs_days"} & set(header.split(","))


def test_loading_then_exporting_gives_the_file_back_byte_for_byte(demo_cohort_loaded):
    # demo_cohort_loaded: what `load_demo` writes (tests/demo_world.py)
    exported = io.StringIO()

    records_export(output=exported)

    # The demo file is in the registry's own REDCap flat format, so a site could re-import it as is.
    assert exported.getvalue() == demo_cohort.DEMO_COHORT_FILE.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_load_demo_sets_the_study_cutoff_derives_everyone_and_adds_nothing_the_second_time():
    first = io.StringIO()
    call_command("load_demo", stdout=first)
    derived_at = set(PatientDerivation.objects.values_list("derived_at", flat=True))

    second = io.StringIO()
    call_command("load_demo", stdout=second)

    assert AnalysisSettings.objects.get(pk=1).data_cutoff.isoformat() == "2024-02-28"
    assert Patient.objects.count() == PatientDerivation.objects.filter(is_stale=False).count() == 73
    assert [Patient.objects.get(record_id=r).site.code for r in ("WU-001", "WU-002")] == ["demo-a", "demo-b"]
    assert "Loaded 37 demo patients into demo-a." in first.getvalue()
    assert "Demo patients of demo-a already loaded." in second.getvalue()
    assert set(PatientDerivation.objects.values_list("derived_at", flat=True)) == derived_at


@pytest.mark.django_db
def test_a_broken_demo_file_is_refused_whole(tmp_path: Path):
    broken = tmp_path / "demo_cohort.csv"
    good = demo_cohort.DEMO_COHORT_FILE.read_text(encoding="utf-8")
    # WU-001's baseline diameter of its first target lesion written "23.6mm": not a number (a negative
    # diameter would be accepted with a warning: the dictionary's range is a soft check).
    broken.write_text(good.replace(",2018-01-29,L1-T1,1,23.6,", ",2018-01-29,L1-T1,1,23.6mm,", 1), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != good
    sites = {code: Site.objects.create(code=code, name=code) for code in demo_cohort.DEMO_SITE_CODES}

    with pytest.raises(demo_cohort.DemoCohortError, match=r"(?s)did not import into demo-a.*lm_mm='23.6mm'"):
        demo_cohort.demo_cohort_load(sites=sites, source=broken)

    assert not Patient.objects.exists()
    assert not AnalysisSettings.objects.exists()


def test_ages_are_completed_years_at_each_line_start():
    # Born 1970-06-15: on 2020-06-14 49 years old, on 2020-06-15 50.
    from datetime import date

    born = demo_cohort.birth_date_for(((date(2020, 6, 14), 49), (date(2021, 6, 15), 51)))
    assert demo_cohort.completed_years(born, date(2020, 6, 14)) == 49
    assert demo_cohort.completed_years(born, date(2021, 6, 15)) == 51
    with pytest.raises(ValueError, match="no birth date"):
        demo_cohort.birth_date_for(((date(2020, 1, 1), 49), (date(2020, 2, 1), 51)))


# ------------------------------------------------------------------ the rules the demo cohort exercises

def _flat_rows(instrument: str) -> list[dict[str, str]]:
    with demo_cohort.DEMO_COHORT_FILE.open(newline="", encoding="utf-8") as stream:
        return [row for row in csv.DictReader(stream) if row["redcap_repeat_instrument"] == instrument]


def test_every_line_has_one_to_five_target_lesions_dealt_in_turn():
    targets = [row for row in _flat_rows("lesion") if row["les_class"] == "1"]
    per_line = Counter((row["record_id"], row["les_line"]) for row in targets)
    lines = {(row["record_id"], row["line_no"]) for row in _flat_rows("treatment_line")}

    # Lines by the plan: cohort 1 has 20 index lines, 18 first subsequent lines and 11 later ones
    # (1 + 1 + 9 after the first subsequent one, demo_cohort._post_index_plans); cohort 2 has 2 × 53
    # index lines, 48 first subsequent and 19 later (1 + 1 + 17); 3 later lines were followed by
    # docetaxel. 49 + 173 + 3 = 225 lines, given 1, 2, 3, 4, 5 target lesions in turn: 45 of each.
    assert len(lines) == 225
    assert set(per_line) == lines
    assert Counter(per_line.values()) == {1: 45, 2: 45, 3: 45, 4: 45, 5: 45}
    # RECIST 1.1: at most two target lesions per organ (lymph nodes count as one organ here); some have two.
    assert max(Counter((row["record_id"], row["les_line"], row["les_site"]) for row in targets).values()) == 2


def test_diameters_are_written_in_tenths_of_a_millimetre_and_measurable_at_baseline():
    measured = [row for row in _flat_rows("lesion_measurement") if row["lm_status"] == "1"]
    values = [Decimal(row["lm_mm"]) for row in measured]

    # Drawn to 0.1 mm, about nine in ten have a tenth other than 0; more than half is a safe floor.
    assert all(value == value.quantize(Decimal("0.1")) for value in values)
    assert sum(value % 1 != 0 for value in values) > len(values) / 2
    # RECIST 1.1 measurability at baseline: lymph nodes (site 2) at least 15 mm, other lesions 10 mm.
    sites = {(row["record_id"], row["les_id"]): row["les_site"] for row in _flat_rows("lesion")}
    baseline = {}
    for row in measured:  # the first measurement of each lesion is its line's baseline
        baseline.setdefault((row["record_id"], row["lm_lesion"]), Decimal(row["lm_mm"]))
    assert all(mm >= (15 if sites[key] == "2" else 10) for key, mm in baseline.items())


def test_target_growth_is_just_enough_for_progression_in_exact_arithmetic():
    # Nadir 10.9 + 20.0 = 30.9 mm; PD needs an increase of at least 30.9 / 5 = 6.18, i.e. 6.2 in tenths,
    # and 5 mm for the growing lesion: 10.9 + 6.2 = 17.1. 10 × 37.1 = 371 ≥ 12 × 30.9 = 370.8 (rules §0).
    lesions = demo_cohort.LineLesions(
        target_ids=("L1-T1", "L1-T2"), target_sites=(1, 8), baseline_mm=(Decimal("20.0"), Decimal("35.0")),
        response_mm=(Decimal("10.9"), Decimal("20.0")), growing=(0,), growth_margin_mm=Decimal(0), nontargets=(),
    )
    assert lesions.grown_mm(lesions.response_mm) == (Decimal("17.1"), Decimal("20.0"))
    # Two growing lesions need 5 mm each: 10 mm in all, more than 6.2.
    both = dataclasses.replace(lesions, growing=(0, 1))
    assert both.grown_mm(lesions.response_mm) == (Decimal("15.9"), Decimal("25.0"))


def test_the_demo_cohort_derives_non_target_progressions_and_each_pfs_censoring_reason(demo_cohort_loaded):
    # demo_cohort_loaded: what `load_demo` writes (tests/demo_world.py)
    lines = {(line.patient.record_id, line.line_no): line
             for line in LineDerivation.objects.select_related("patient")}
    at_progression = [
        assessment for assessment in AssessmentDerivation.objects.select_related("patient")
        if assessment.ta_date == lines[(assessment.patient.record_id, assessment.line_no)].pd_date
    ]

    # Non-target progression (rules §2): 8 index lines (demo_cohort: cohort 1 positions 3 and 11;
    # crizotinib 1, 2, 9 and 41; second line 6 and 8) and every fifth platinum first subsequent line
    # (positions 0, 5, ..., 30 of 31: 7), 15 in all; neither targets nor new lesions give PD there.
    by_nontarget = {(a.patient.record_id, a.line_no): a for a in at_progression if a.nontarget_response == "PD"}
    assert len(by_nontarget) == 15
    assert {("WU-004", 1), ("WU-012", 1), ("WU-022", 1), ("WU-023", 1), ("WU-030", 1), ("WU-062", 1),
            ("WU-027", 2), ("WU-029", 2)} < set(by_nontarget)
    assert all(a.target_response != "PD" and a.new_lesions is False and a.overall_response == "PD"
               for a in by_nontarget.values())
    # §3: the progressing brain metastasis is one lesion in the brain: an oligo CNS progression; a
    # progressing pleural effusion makes an extensive one.
    assert (lines[("WU-022", 1)].extent, lines[("WU-022", 1)].cns_progression) == ("oligo", True)
    assert (lines[("WU-062", 1)].extent, lines[("WU-062", 1)].cns_progression) == ("extensive", False)

    # §4 censoring. WU-002, WU-043 and WU-035: the TKI after the chemotherapy stopped for toxicity
    # after 896, 1120 and 200 days, scans every 56 days from its start: the last adequate scans are
    # on days 896 = 16 × 56, 1120 = 20 × 56 and 168 = 3 × 56; docetaxel followed (new_therapy).
    # WU-016, WU-058 and WU-063: imaging stopped after the scan of day 56 and the death came more than
    # 182 days later (death_after_missed_assessments, censored at day 56).
    censored = {key: (line.pfs_days, line.pfs_censor_reason) for key, line in lines.items()
                if line.pfs_censor_reason in (CENSORED_NEW_THERAPY, CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS)}
    assert censored == {
        ("WU-002", 3): (896, CENSORED_NEW_THERAPY), ("WU-043", 4): (1120, CENSORED_NEW_THERAPY),
        ("WU-035", 4): (168, CENSORED_NEW_THERAPY),
        ("WU-016", 3): (56, CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS),
        ("WU-058", 4): (56, CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS),
        ("WU-063", 4): (56, CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS),
    }
    # Oligo progressions by target growth count 1, 2 and 3 progressing target lesions (§3).
    grown = {line.n_progressing_lesions for key, line in lines.items()
             if line.extent == "oligo" and not line.cns_progression and key not in by_nontarget}
    assert grown == {1, 2, 3}
