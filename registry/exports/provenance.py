"""What a dataset's rows were derived with: the sidecar `<file>.provenance.json`.

Every stored result belongs to one PatientDerivation, which records the rules version, the settings
(their snapshot, including the data cut-off) and whether the records changed since (stale). The
exported patients' derivations are grouped by (rules version, data cut-off, settings snapshot);
when they all agree, are all current and every patient was derived, the export is `consistent`
and the three are also given at the top level.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from registry.models import PatientDerivation

from . import datasets


def derivation_provenance(patient_ids: Sequence[int], *, batch_patients: int | None = None) -> dict:
    """Groups the given patients' derivations; one query per batch of patients."""
    size = batch_patients or datasets.BATCH_PATIENTS

    def derivations() -> Iterator[tuple]:
        for start in range(0, len(patient_ids), size):
            for rules_version, data_cutoff, snapshot, is_stale in PatientDerivation.objects.filter(
                patient_id__in=patient_ids[start:start + size]
            ).order_by().values_list("rules_version", "data_cutoff", "settings_snapshot", "is_stale"):
                yield rules_version, data_cutoff.isoformat() if data_cutoff else None, snapshot, is_stale

    return grouped_provenance(derivations(), patients=len(patient_ids))


def grouped_provenance(derivations: Iterable[tuple[int, str | None, dict, bool]], *, patients: int) -> dict:
    """The provenance of `patients` exported patients from the derivations of those derived:
    (rules version, data cut-off as ISO text or None, settings snapshot, stale) each. A frozen data
    cut (registry/services/data_cuts.py) gives the ones it stored."""
    counts: Counter = Counter()
    stale: Counter = Counter()
    derived = 0
    for rules_version, cutoff, snapshot, is_stale in derivations:
        # sort_keys: the same settings are one group whatever order the snapshot's keys were stored in.
        key = (rules_version, cutoff, json.dumps(snapshot, sort_keys=True))
        counts[key] += 1
        stale[key] += is_stale
        derived += 1
    groups = [
        {
            "rules_version": rules_version,
            "data_cutoff": data_cutoff,
            "settings_snapshot": json.loads(snapshot),
            "patients": count,
            "stale_patients": stale[(rules_version, data_cutoff, snapshot)],
        }
        for (rules_version, data_cutoff, snapshot), count in sorted(
            counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or "", item[0][2])
        )
    ]
    stale_patients = sum(stale.values())
    not_derived = patients - derived
    consistent = len(groups) == 1 and not stale_patients and not not_derived
    only = groups[0] if consistent else None
    return {
        "consistent": consistent,
        "rules_version": only and only["rules_version"],
        "data_cutoff": only and only["data_cutoff"],
        "settings_snapshot": only and only["settings_snapshot"],
        "patients": patients,
        "derived_patients": derived,
        "stale_patients": stale_patients,
        "not_derived_patients": not_derived,
        "derived_with": groups,
    }
