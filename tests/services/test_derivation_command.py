"""python manage.py derive: a thin door onto patients_derive and analysis_settings_update."""
import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from registry.models import AnalysisSettings, PatientDerivation
from tests import factories


def _derive(*arguments):
    out, err = io.StringIO(), io.StringIO()
    call_command("derive", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_derive_without_records_derives_everyone_and_prints_a_summary(site_a):
    patients = [factories.make_full_patient(site_a) for _ in range(3)]

    out, err = _derive("--batch-size", "2")

    assert PatientDerivation.objects.count() == 3
    assert out.splitlines()[:5] == ["patients 3", "lines 3", "assessments 0", "biopsies 3", "flags 0"]
    assert out.splitlines()[5].startswith("seconds ")
    # The progress bar, in place: after 2 patients, then after 3.
    assert "\r[####################..........] 2/3 patients" in err
    assert err.rstrip().endswith("] 3/3 patients")
    assert {patient.id for patient in patients} == set(PatientDerivation.objects.values_list("patient_id", flat=True))


def test_derive_named_records_only(site_a):
    named, other = factories.make_full_patient(site_a, "P-NAMED"), factories.make_full_patient(site_a, "P-OTHER")

    _derive("--record", "P-NAMED")

    assert list(PatientDerivation.objects.values_list("patient_id", flat=True)) == [named.id]
    assert not PatientDerivation.objects.filter(patient=other).exists()


def test_a_cutoff_is_saved_in_the_settings_before_deriving(site_a):
    patient = factories.make_full_patient(site_a, "P-CUT")

    _derive("--cutoff", "2022-12-31")

    assert AnalysisSettings.objects.get(pk=1).data_cutoff == date(2022, 12, 31)
    assert AnalysisSettings.objects.get(pk=1).history.latest().history_change_reason == "analysis settings changed"
    stored = PatientDerivation.objects.get(patient=patient)
    assert (stored.data_cutoff, stored.settings_snapshot["data_cutoff"], stored.is_stale) == (
        date(2022, 12, 31), "2022-12-31", False)


def test_an_unknown_record_is_an_error_and_nothing_is_derived(site_a):
    factories.make_full_patient(site_a, "P-KNOWN")

    with pytest.raises(CommandError, match="P-NOBODY"):
        _derive("--record", "P-KNOWN", "--record", "P-NOBODY")

    assert not PatientDerivation.objects.exists()


def test_a_malformed_cutoff_is_an_error_and_nothing_is_written(site_a):
    factories.make_full_patient(site_a)

    with pytest.raises(CommandError, match="--cutoff 2022-13-45"):
        _derive("--cutoff", "2022-13-45")

    assert not AnalysisSettings.objects.filter(data_cutoff__isnull=False).exists()
    assert not PatientDerivation.objects.exists()
