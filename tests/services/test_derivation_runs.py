"""Full derivations fanned out in chunks (registry/services/derivation_runs.py): how a run is cut,
that a chunk is derived once however often it runs, what a chunk costs, and failed chunks retried
without redoing the others. The real workers: tests/test_celery_worker.py."""
from datetime import date

import pytest
from django.db import connection

from registry import derive
from registry.models import (
    AnalysisSettings, DerivationChunk, DerivationRun, LineDerivation, PatientDerivation,
)
from registry.services import derivation_runs
from registry.services.derivation import analysis_settings_update
from registry.services.derivation_runs import (
    derivation_chunk_run, derivation_run_inline, derivation_run_retry, derivation_run_start,
)
from registry.tasks import derive_all_task, derive_chunk_task
from tests import factories


@pytest.fixture
def stored_settings(db):
    return AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))


def _patients(site, count: int) -> list[int]:
    return [factories.make_full_patient(site, f"P-{number}").id for number in range(1, count + 1)]


def test_a_run_cuts_its_patients_in_id_order_into_chunks_of_the_given_size(site_a, stored_settings):
    ids = _patients(site_a, 5)

    # Given in another order, with a duplicate: 5 patients in chunks of 2 are [1 2] [3 4] [5].
    run = derivation_run_start(patient_ids=[ids[4], *ids, ids[0]], trigger=DerivationRun.Trigger.COMMAND,
                               chunk_patients=2)

    assert (run.total_patients, run.total_chunks, run.chunk_patients, run.chunks_done, run.finished_at) == (
        5, 3, 2, 0, None)
    assert list(run.chunks.values_list("number", "patient_ids", "status")) == [
        (1, ids[0:2], "queued"), (2, ids[2:4], "queued"), (3, ids[4:5], "queued")]
    assert run.settings_snapshot["data_cutoff"] == "2024-06-30"
    assert not PatientDerivation.objects.exists()


def test_no_patients_record_no_run(db):
    assert derivation_run_start(patient_ids=[], trigger=DerivationRun.Trigger.COMMAND) is None
    assert not DerivationRun.objects.exists()


def test_a_chunk_run_twice_stores_its_patients_results_once_and_is_counted_once(site_a, stored_settings):
    ids = _patients(site_a, 3)
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND, chunk_patients=2)
    first = run.chunks.get(number=1)

    derived = derivation_chunk_run(chunk_id=first.pk)
    derived_at = dict(PatientDerivation.objects.values_list("patient_id", "derived_at"))
    again = derivation_chunk_run(chunk_id=first.pk)  # redelivered by the broker

    # Each full patient has one line: 2 patients, 2 line results, once.
    assert (derived.patients, derived.lines, again.patients) == (2, 2, 0)
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == ids[:2]
    assert sorted(LineDerivation.objects.values_list("patient_id", flat=True)) == ids[:2]
    assert dict(PatientDerivation.objects.values_list("patient_id", "derived_at")) == derived_at  # not redone
    first.refresh_from_db()
    run.refresh_from_db()
    assert (first.status, first.attempts, first.patients, first.lines) == ("done", 1, 2, 2)
    assert (run.chunks_done, run.patients_done, run.finished_at) == (1, 2, None)


@pytest.mark.django_db(transaction=True)  # the chunk's own transaction, not one joined to the test's
def test_a_chunk_killed_after_storing_and_before_counting_leaves_nothing_and_runs_again_whole(
    site_a, stored_settings, monkeypatch,
):
    ids = _patients(site_a, 2)
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND, chunk_patients=2)
    (chunk,) = run.chunks.all()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("the worker was killed")  # not an Exception: nothing catches it

    monkeypatch.setattr(derivation_runs, "_count_in_run", killed)
    with pytest.raises(KeyboardInterrupt):
        derivation_chunk_run(chunk_id=chunk.pk)
    # Its results were written, then its transaction rolled back: nothing is left, the chunk is not done
    assert not PatientDerivation.objects.exists() and not LineDerivation.objects.exists()
    assert run.chunks.get().status == "running"

    monkeypatch.undo()
    derivation_chunk_run(chunk_id=chunk.pk)

    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == ids
    assert LineDerivation.objects.count() == 2
    run.refresh_from_db()
    assert (run.chunks_done, run.patients_done) == (1, 2) and run.finished_at is not None


def test_a_chunk_costs_a_batchs_queries_and_four_of_its_own_whatever_its_size(
    site_a, stored_settings, django_assert_num_queries,
):
    ids = _patients(site_a, 7)
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND, chunk_patients=6)
    big, small = run.chunks.order_by("number")
    deletes = 1 if connection.vendor == "postgresql" else 3
    # 1 UPDATE the chunk to running, 2 SELECT it FOR UPDATE, 3 the analysis settings,
    # 4-9 the six loads of the batch, 10 the upsert of PatientDerivation, the deletes (1 statement on
    # PostgreSQL, 3 on SQLite), 2 INSERTs (line and biopsy results: the factory's full patient has no
    # assessment result, as `derive` reports "assessments 0" for it, so no third INSERT), then
    # 1 UPDATE the chunk done and 1 UPDATE its run's counters.
    expected = 3 + 6 + 1 + deletes + 2 + 2
    with django_assert_num_queries(expected):
        derivation_chunk_run(chunk_id=big.pk)  # 6 patients
    with django_assert_num_queries(expected):
        derivation_chunk_run(chunk_id=small.pk)  # 1 patient

    run.refresh_from_db()
    assert (run.chunks_done, run.patients_done) == (2, 7) and run.finished_at is not None


# Committed transactions, as in production: a chunk's transaction is its own (in a test's, joined
# without a savepoint, its failure would break the test's).
@pytest.mark.django_db(transaction=True)
def test_a_failing_chunk_is_marked_failed_the_others_are_done_and_a_retry_redoes_only_it(
    site_a, stored_settings, broken_rule,
):
    ids = _patients(site_a, 3)
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND, chunk_patients=1)
    broken_rule.breaks_for("P-2")
    failed = derivation_run_inline(run=run)

    second = run.chunks.get(number=2)
    assert failed == [second.pk]
    assert (second.status, second.error) == ("failed", "ValueError: a bug in a rule")
    # P-2 has nothing stored; P-1 and P-3 are derived
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == [ids[0], ids[2]]
    run.refresh_from_db()
    assert (run.chunks_done, run.chunks_failed, run.patients_done) == (2, 1, 2) and run.finished_at is not None

    # When the bug is fixed and the run retried, only the failed chunk runs again
    broken_rule.fixed()
    derived_at = dict(PatientDerivation.objects.values_list("patient_id", "derived_at"))
    chunk_ids = derivation_run_retry(run=run)
    assert chunk_ids == [second.pk]
    assert (run.chunks_failed, run.finished_at) == (0, None)
    assert derivation_run_inline(run=run, chunk_ids=chunk_ids) == []

    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == ids
    assert {patient_id: at for patient_id, at in PatientDerivation.objects.values_list("patient_id", "derived_at")
            if patient_id != ids[1]} == derived_at
    run.refresh_from_db()
    assert (run.chunks_done, run.chunks_failed, run.patients_done) == (3, 0, 3) and run.finished_at is not None
    assert list(run.chunks.values_list("attempts", flat=True)) == [1, 2, 1]


@pytest.mark.django_db(transaction=True)
def test_a_chunk_task_that_gives_up_marks_its_chunk_failed(site_a, stored_settings, monkeypatch):
    ids = _patients(site_a, 1)
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND)

    def broken(record, settings):
        raise ValueError("a bug in a rule")

    monkeypatch.setattr(derive, "derive_patient", broken)
    # As a worker runs it: the failure is the task's result (not raised here), after its handler ran
    result = derive_chunk_task.apply(args=[run.chunks.get().pk], throw=False)

    assert result.failed() and isinstance(result.result, ValueError)

    chunk = run.chunks.get()
    assert (chunk.status, chunk.error) == ("failed", "ValueError: a bug in a rule")
    assert not PatientDerivation.objects.exists()


def test_parallel_processes_are_refused_on_sqlite(site_a, stored_settings):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's refusal")
    run = derivation_run_start(patient_ids=_patients(site_a, 2), trigger=DerivationRun.Trigger.COMMAND)

    with pytest.raises(derivation_runs.ParallelNotPossible, match="SQLite"):
        derivation_run_inline(run=run, processes=2)

    assert not PatientDerivation.objects.exists()
    assert run.chunks.get().status == DerivationChunk.Status.QUEUED


def test_a_settings_change_records_a_run_by_its_author_that_derives_everyone(
    site_a, stored_settings, administrator, django_capture_on_commit_callbacks,
):
    ids = _patients(site_a, 3)

    with django_capture_on_commit_callbacks(execute=True):
        analysis_settings_update(values={"data_cutoff": "2023-12-31"}, user=administrator)

    run = DerivationRun.objects.get()
    assert (run.trigger, run.requested_by, run.reason, run.total_patients) == (
        "settings", administrator, "analysis settings changed", 3)
    assert (run.chunks_done, run.patients_done) == (run.total_chunks, 3) and run.finished_at is not None
    assert sorted(PatientDerivation.objects.filter(data_cutoff=date(2023, 12, 31)).values_list(
        "patient_id", flat=True)) == ids


def test_the_nightly_task_with_nothing_outdated_records_no_run(site_a, stored_settings):
    assert derive_all_task.delay().get() == 0
    assert not DerivationRun.objects.exists()


def test_a_derive_all_delivered_again_after_its_worker_died_resumes_its_run_instead_of_recording_another(
    site_a, stored_settings, monkeypatch,
):
    # The first delivery records its run of 3 patients (chunks of 2: [1 2] [3]) and dies before it
    # sends the chunks (the dispatch raises, as a killed worker would stop there). The broker delivers
    # the same task (same id) again: it finds that run, sends its 2 chunks, and records no other run;
    # every patient is derived once.
    ids = _patients(site_a, 3)
    monkeypatch.setattr(derivation_runs.django_settings, "DERIVE_CHUNK_PATIENTS", 2)
    real_dispatch = derivation_runs.derivation_run_dispatch

    def killed(**arguments):
        raise SystemExit("worker killed")

    monkeypatch.setattr(derivation_runs, "derivation_run_dispatch", killed)
    with pytest.raises(SystemExit):
        derive_all_task.apply(task_id="nightly-1", throw=True)
    recorded = DerivationRun.objects.get()
    assert (recorded.task_id, recorded.chunks_done, PatientDerivation.objects.count()) == ("nightly-1", 0, 0)

    monkeypatch.setattr(derivation_runs, "derivation_run_dispatch", real_dispatch)
    assert derive_all_task.apply(task_id="nightly-1").get() == 3

    run = DerivationRun.objects.get()
    assert run.pk == recorded.pk
    assert (run.chunks_done, run.patients_done) == (2, 3) and run.finished_at is not None
    assert sorted(PatientDerivation.objects.values_list("patient_id", flat=True)) == ids


def test_two_derive_all_tasks_record_two_runs_and_a_task_id_names_one_run_at_most(site_a, stored_settings):
    # Another task (another id) records its own run, as before. A run recorded under a task id
    # answers a second start with that id, even when the second start is given other patients: the
    # first delivery's run is the task's run.
    ids = _patients(site_a, 2)
    first = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.REFRESH, task_id="t-1")
    again = derivation_run_start(patient_ids=ids[:1], trigger=DerivationRun.Trigger.REFRESH, task_id="t-1")
    other = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.REFRESH, task_id="t-2")
    untagged = [derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.COMMAND) for _ in range(2)]

    assert again.pk == first.pk and again.total_patients == 2
    assert other.pk != first.pk
    assert DerivationRun.objects.count() == 4  # t-1, t-2 and the two without a task
    assert all(run.task_id == "" for run in untagged)


def test_two_deliveries_at_once_meet_the_unique_task_id_and_the_second_answers_the_first_run(
    site_a, stored_settings, monkeypatch,
):
    # The second delivery looked before the first had committed (simulated: its lookup finds nothing),
    # so it tries to record a run too; the unique constraint refuses it, and it answers the first's
    # run, with nothing of its own written.
    ids = _patients(site_a, 2)
    first = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.REFRESH, task_id="t-race")
    chunks_before = DerivationChunk.objects.count()
    real_lookup = derivation_runs._run_of_task
    lookups = []

    def looked_too_early(task_id):
        lookups.append(task_id)
        return None if len(lookups) == 1 else real_lookup(task_id)

    monkeypatch.setattr(derivation_runs, "_run_of_task", looked_too_early)

    second = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.REFRESH, task_id="t-race")

    assert second.pk == first.pk
    assert lookups == ["t-race", "t-race"]  # before the insert, and after its refusal
    assert DerivationRun.objects.count() == 1 and DerivationChunk.objects.count() == chunks_before


def test_another_refusal_of_a_tasks_run_is_raised_and_leaves_nothing(site_a, stored_settings, monkeypatch):
    # A refusal that is not the one-run-per-task constraint (here the chunks' insert) is not taken
    # for a concurrent delivery: no run of that task exists, so the error is raised, and the run's
    # row is rolled back with its chunks.
    from django.db import IntegrityError

    ids = _patients(site_a, 2)

    def refused(*args, **kwargs):
        raise IntegrityError("refused")

    monkeypatch.setattr(DerivationChunk.objects, "bulk_create", refused)
    with pytest.raises(IntegrityError):
        derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.REFRESH, task_id="t-refused")

    assert not DerivationRun.objects.exists() and not DerivationChunk.objects.exists()
