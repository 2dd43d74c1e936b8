"""Migration 0025 (numbered 0023 on its branch) marks results derived under rules version 1 stale, so the sweep derives them again."""
import importlib

from django.apps import apps
from django.utils import timezone

from registry.models import PatientDerivation
from tests import factories

migration = importlib.import_module("registry.migrations.0026_rules_version_2")


def _derivation(patient, rules_version):
    return PatientDerivation.objects.create(patient=patient, rules_version=rules_version, settings_snapshot={},
                                            derived_at=timezone.now())


def test_only_results_of_rules_version_1_become_stale_with_the_time_they_did(site_a):
    older = _derivation(factories.make_patient(site_a, "V1"), 1)
    current = _derivation(factories.make_patient(site_a, "V2"), 2)

    migration.mark_older_results_stale(apps, None)

    older.refresh_from_db()
    current.refresh_from_db()
    assert (older.is_stale, older.stale_since is not None) == (True, True)
    assert (current.is_stale, current.stale_since) == (False, None)
