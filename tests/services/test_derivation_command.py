"""python manage.py derive: a thin door onto patients_derive and analysis_settings_update."""
import io
import time
from datetime import date
from types import SimpleNamespace

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
def test_a_failed_chunk_fails_the_command_and_retry_run_derives_only_it(site_a, broken_rule):
    first, second = factories.make_full_patient(site_a, "P-1"), factories.make_full_patient(site_a, "P-2")
    broken_rule.breaks_for("P-2")
    with pytest.raises(CommandError, match=r"1 of 2 chunks failed .* derive --retry-run \d+"):
        _derive("--batch-size", "1")
    assert list(PatientDerivation.objects.values_list("patient_id", flat=True)) == [first.id]

    broken_rule.fixed()
    run = DerivationRun.objects.get()
    out, _ = _derive("--retry-run", str(run.pk))

    assert out.splitlines()[0] == "patients 2"  # the run's done chunks, the first one not derived again
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == [first.id, second.id]
    assert list(run.chunks.values_list("attempts", flat=True)) == [1, 2]


# --- with a broker: no worker answering, and a run that stalls -------------------------------------

class _Clock:
    """time.monotonic and time.sleep for the command: each sleep moves the clock on by `step`
    seconds, and `on_sleep(now)` runs after each."""

    def __init__(self, step: float, on_sleep):
        self.now, self.step, self.on_sleep = 1000.0, step, on_sleep

    def monotonic(self):
        return self.now

    def sleep(self, _seconds):
        self.now += self.step
        self.on_sleep(self.now)


@pytest.fixture
def brokered(monkeypatch):
    """The command believes a broker is configured (its chunks still run here, eagerly, when sent)."""
    from registry.management.commands import derive as command

    monkeypatch.setattr(command, "chunks_go_to_workers", lambda: True)
    return command


def _workers_answer(monkeypatch, replies):
    from config.celery import app

    monkeypatch.setattr(app.control, "ping", lambda timeout: replies)


def test_no_worker_answering_is_a_warning_and_the_run_is_still_sent(site_a, brokered, monkeypatch):
    factories.make_full_patient(site_a)
    _workers_answer(monkeypatch, [])

    _, err = _derive()

    assert "No Celery worker answered within 2 s" in err
    assert "celery -A config worker" in err
    # Sent anyway (and, eager here, derived): a worker starting later would have taken it.
    assert PatientDerivation.objects.count() == 1
    assert DerivationRun.objects.get().chunks_done == 1


def test_a_worker_answering_gives_no_warning(site_a, brokered, monkeypatch):
    factories.make_full_patient(site_a)
    _workers_answer(monkeypatch, [{"celery@host": {"ok": "pong"}}])

    _, err = _derive()

    assert "No Celery worker answered" not in err
    assert PatientDerivation.objects.count() == 1


def test_a_stalled_run_is_warned_about_once_and_waited_for_until_it_finishes(site_a, brokered, monkeypatch):
    """Nothing is sent (no worker takes the chunks); the clock moves 50 s per poll. The warning comes
    at the first poll 120 s (STALL_WARNING_SECONDS) after the last change: 1000 -> 1050 -> 1100 ->
    1150, i.e. after the third sleep, and only once; at 1300 a worker 'finishes' the only chunk."""
    factories.make_full_patient(site_a)
    _workers_answer(monkeypatch, [{"celery@host": {"ok": "pong"}}])
    monkeypatch.setattr(brokered, "derivation_run_dispatch", lambda **_: None)
    sleeps = []

    def on_sleep(now):
        sleeps.append(now)
        if now >= 1300:
            DerivationRun.objects.update(chunks_done=1, patients_done=1)

    clock = _Clock(50, on_sleep)
    # The command's own `time` only: the real module stays as it is for everything else.
    monkeypatch.setattr(brokered, "time", SimpleNamespace(
        monotonic=clock.monotonic, sleep=clock.sleep, perf_counter=time.perf_counter))

    _, err = _derive()

    run = DerivationRun.objects.get()
    assert err.count(f"No chunk of run {run.pk} has finished for 120 s") == 1
    assert sleeps == [1050, 1100, 1150, 1200, 1250, 1300]  # waited until the run finished, then returned
    # The warning was written at 1150 (after the third sleep): the progress after it is the final one.
    assert err.rstrip().endswith("] 1/1 patients")
