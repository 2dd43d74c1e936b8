"""The synthetic cohort a benchmark runs on: written when missing, derived where it is not yet.

Imported after django.setup() (the benchmarks choose their settings and database first).
"""
import sys
import time

from registry.models import Patient
from registry.services.derivation import patients_derive
from registry.services.synthetic_cohort import synthetic_cohort_create, synthetic_record_id


def cohort_written(patients: int, seed: int, follow_up: str, *, exact: bool) -> str:
    """Writes `patients` synthetic patients of the seed and profile when none of them exists (printing
    the rows and seconds) and answers their record-ID prefix. Some of them existing already ends the
    benchmark, naming them, when they are fewer than `patients` (with `exact`: not exactly `patients`):
    the cohort is written whole or not at all."""
    prefix = synthetic_record_id(seed, 0, follow_up)[: -len("000000")]
    existing = Patient.objects.filter(record_id__startswith=prefix).count()
    if existing and (existing != patients if exact else existing < patients):
        wanted = f"not {patients}" if exact else f"fewer than {patients}"
        sys.exit(f"{existing} patients {prefix}... exist, {wanted}: delete them or choose another seed")
    if not existing:
        started = time.perf_counter()
        print(f"writing {patients} synthetic patients {prefix}... (profile {follow_up}) ...", flush=True)
        summary = synthetic_cohort_create(
            patients=patients, seed=seed, site=None, batch_size=500, follow_up=follow_up,
            progress=lambda done, total: print(f"  {done}/{total}", flush=True) if done % 10_000 == 0 else None,
        )
        print(f"  {summary.total_rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
    return prefix


def patients_derived(patient_ids: list[int], *, why: str = "") -> None:
    """Derives the patients (none: nothing), printing how many and the seconds."""
    if not patient_ids:
        return
    started = time.perf_counter()
    print(f"deriving {len(patient_ids)} patients{f' ({why})' if why else ''} ...", flush=True)
    patients_derive(patient_ids=patient_ids)
    print(f"  in {time.perf_counter() - started:.1f} s", flush=True)
