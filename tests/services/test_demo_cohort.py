"""The demo cohort: a committed REDCap file that is exactly what its plan builds, loaded once."""
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.models import AnalysisSettings, Patient, PatientDerivation, Site
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


@pytest.mark.django_db
def test_loading_then_exporting_gives_the_file_back_byte_for_byte():
    call_command("load_demo", stdout=io.StringIO())
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
    # "18mm": not a number (a negative diameter would be accepted with a warning: the dictionary's range
    # is a soft check).
    broken.write_text(good.replace(",2018-04-02,L1-T1,1,18,", ",2018-04-02,L1-T1,1,18mm,", 1), encoding="utf-8")
    sites = {code: Site.objects.create(code=code, name=code) for code in demo_cohort.DEMO_SITE_CODES}

    with pytest.raises(demo_cohort.DemoCohortError, match=r"(?s)did not import into demo-a.*lm_mm='18mm'"):
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
