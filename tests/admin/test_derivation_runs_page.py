"""The admin's derivation runs: read-only, for administrators, with each run's progress and failed chunks."""
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.models import AnalysisSettings, DerivationRun, Role
from registry.services.derivation_runs import derivation_chunk_failed, derivation_chunk_run, derivation_run_start
from tests import factories

LIST_URL = "admin:registry_derivationrun_changelist"


@pytest.fixture
def run(site_a, administrator):
    """3 patients in chunks of 1: the first done, the second failed, the third not started."""
    AnalysisSettings.objects.create(pk=1, data_cutoff=date(2024, 6, 30))
    ids = [factories.make_full_patient(site_a).id for _ in range(3)]
    run = derivation_run_start(patient_ids=ids, trigger=DerivationRun.Trigger.SETTINGS, user=administrator,
                               reason="analysis settings changed", chunk_patients=1)
    first, second, _ = run.chunks.order_by("number")
    derivation_chunk_run(chunk_id=first.pk)
    derivation_chunk_failed(chunk_id=second.pk, error="OperationalError: the server closed the connection")
    return run


def test_an_administrator_sees_each_runs_progress_and_how_to_retry_its_failed_chunks(client, administrator, run):
    client.force_login(administrator)

    page = client.get(reverse(LIST_URL)).content.decode()

    # 1 chunk of 1 patient done out of 3; 1 failed; the third still queued: running, and the list reloads
    assert "1 of 3 patients, 1 of 3 chunks" in page
    assert f"1 (retry: manage.py derive --retry-run {run.pk})" in page
    assert "analysis settings changed" in page and "running" in page
    assert '<meta http-equiv="refresh" content="5">' in page

    detail = client.get(reverse("admin:registry_derivationrun_change", args=[run.pk])).content.decode()
    assert "OperationalError: the server closed the connection" in detail
    assert 'name="_save"' not in detail  # a page to read, with no save button


def test_a_finished_list_does_not_reload(client, administrator, run):
    DerivationRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    client.force_login(administrator)

    assert "http-equiv" not in client.get(reverse(LIST_URL)).content.decode()


def test_nobody_adds_changes_or_deletes_a_run_and_a_coordinator_does_not_see_them(client, administrator, run, site_a):
    client.force_login(administrator)
    assert client.get(reverse("admin:registry_derivationrun_add")).status_code == 403
    assert client.post(reverse("admin:registry_derivationrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:registry_derivationrun_change", args=[run.pk]), {"reason": "x"}).status_code == 403
    assert DerivationRun.objects.get(pk=run.pk).reason == "analysis settings changed"

    client.force_login(factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a]))
    assert client.get(reverse(LIST_URL)).status_code == 403
