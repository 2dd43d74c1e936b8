"""python manage.py derive: a thin door onto patients_derive and analysis_settings_update."""
import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from registry.models import AnalysisSettings, BiopsyDerivation, DerivationRun, LineDerivation, PatientDerivation
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


def test_derive_of_everyone_is_recorded_as_a_run_of_chunks(site_a):
    patients = [factories.make_full_patient(site_a) for _ in range(3)]

    _, err = _derive("--batch-size", "2")

    # 3 patients in chunks of 2: 2 chunks, both done
    run = DerivationRun.objects.get()
    assert (run.trigger, run.total_patients, run.total_chunks, run.chunks_done, run.patients_done) == (
        "command", 3, 2, 2, 3)
    assert run.finished_at is not None
    assert f"Derivation run {run.pk}: 3 patients in 2 chunks of up to 2" in err
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == sorted(p.id for p in patients)


def test_parallel_on_sqlite_is_refused_and_nothing_is_written(site_a):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's refusal")
    factories.make_full_patient(site_a)

    with pytest.raises(CommandError, match="--parallel needs PostgreSQL: SQLite takes one writer at a time"):
        _derive("--parallel", "2", "--cutoff", "2022-12-31")

    assert not DerivationRun.objects.exists()
    assert not PatientDerivation.objects.exists()
    assert not AnalysisSettings.objects.filter(data_cutoff__isnull=False).exists()


def test_parallel_with_named_records_is_refused(site_a):
    factories.make_full_patient(site_a, "P-ONE")

    with pytest.raises(CommandError, match="cannot be used with --record"):
        _derive("--parallel", "2", "--record", "P-ONE")

    assert not PatientDerivation.objects.exists()


@pytest.mark.django_db(transaction=True)  # the processes read what this one committed
def test_parallel_2_on_postgresql_derives_every_patient_once(site_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite takes one writer at a time")
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    ids = sorted(factories.make_full_patient(site_a).id for _ in range(5))

    out, _ = _derive("--parallel", "2", "--batch-size", "2")

    # 5 patients in chunks of 2 (3 chunks) over 2 processes; each full patient has one line and one biopsy
    run = DerivationRun.objects.get()
    assert (run.total_chunks, run.chunks_done, run.chunks_failed, run.patients_done) == (3, 3, 0, 5)
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == ids
    assert sorted(LineDerivation.objects.values_list("patient_id", flat=True)) == ids
    assert sorted(BiopsyDerivation.objects.values_list("patient_id", flat=True)) == ids
    assert out.splitlines()[:5] == ["patients 5", "lines 5", "assessments 0", "biopsies 5", "flags 0"]


@pytest.mark.django_db(transaction=True)  # each chunk its own transaction, as in production
def test_a_failed_chunk_fails_the_command_and_retry_run_derives_only_it(site_a, monkeypatch):
    from registry import derive

    first, second = factories.make_full_patient(site_a, "P-1"), factories.make_full_patient(site_a, "P-2")
    real_derive = derive.derive_patient

    def broken_for_p2(record, settings):
        if record.record_id == "P-2":
            raise ValueError("a bug in a rule")
        return real_derive(record, settings)

    monkeypatch.setattr(derive, "derive_patient", broken_for_p2)
    with pytest.raises(CommandError, match=r"1 of 2 chunks failed .* derive --retry-run \d+"):
        _derive("--batch-size", "1")
    assert list(PatientDerivation.objects.values_list("patient_id", flat=True)) == [first.id]

    monkeypatch.setattr(derive, "derive_patient", real_derive)
    run = DerivationRun.objects.get()
    out, _ = _derive("--retry-run", str(run.pk))

    assert out.splitlines()[0] == "patients 2"  # the run's done chunks, the first one not derived again
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == [first.id, second.id]
    assert list(run.chunks.values_list("attempts", flat=True)) == [1, 2]
