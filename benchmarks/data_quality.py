"""Speed of running every data-quality rule on 10,000 synthetic patients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reg_rules_bench .venv/bin/python benchmarks/data_quality.py \\
        [--patients 10000] [--seed 7] [--follow-up registry]

Writes to the database of DATABASE_URL: when it holds fewer than --patients synthetic patients of
the seed and follow-up profile, they are added (registry/services/synthetic_cohort.py) and derived
(so that the derivation's flags are there to be read as rules); three custom rules are added (one
with datediff, one with arithmetic, one with not) if missing. Refuses SQLite unless --allow-sqlite.

Prints the records, the hits per rule, the run's seconds, queries and peak resident memory.
Target: all rules on 10,000 patients of the registry profile in under 60 s.
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["DEBUG"] = "false"  # else Django keeps the text of every query
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from benchmarks.cohort import cohort_written, patients_derived  # noqa: E402
from benchmarks.query_counter import QueryCounter  # noqa: E402
from registry.models import (  # noqa: E402
    LesionMeasurement, Patient, PatientDerivation, QualityRule, QualityRuleRun, TreatmentLine, TumorAssessment,
)
from registry.services.data_quality import quality_rules_run  # noqa: E402

CUSTOM_RULES = {
    "Scan more than 30 days after death": 'datediff([death_date], [ta_date], "d", true) > 30',
    "Target over 25 cm doubled": "[lm_mm] * 2 > 500",
    "Not alive, last seen before death": 'not([vital] = "1") and [last_alive_date] <> [death_date]',
}


def cohort(patients: int, seed: int, follow_up: str) -> None:
    cohort_written(patients, seed, follow_up, exact=False)
    patients_derived(list(Patient.objects.filter(derivation__isnull=True).values_list("id", flat=True)),
                     why="for the derivation's flags")
    for name, logic in CUSTOM_RULES.items():
        QualityRule.objects.get_or_create(name=name, defaults={"logic": logic})
    print(f"database: {Patient.objects.count()} patients, {TreatmentLine.objects.count()} lines, "
          f"{TumorAssessment.objects.count()} assessments, {LesionMeasurement.objects.count()} lesion measurements, "
          f"{PatientDerivation.objects.filter(flag_count__gt=0).count()} patients with flags", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--follow-up", default="registry")
    parser.add_argument("--allow-sqlite", action="store_true")
    arguments = parser.parse_args()
    if connection.vendor == "sqlite" and not arguments.allow_sqlite:
        sys.exit("This benchmark measures PostgreSQL: set DATABASE_URL (or pass --allow-sqlite).")
    cohort(arguments.patients, arguments.seed, arguments.follow_up)

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    for rule, count in run.hits.values("rule").order_by("rule").annotate(count=Count("pk")).values_list(
            "rule", "count"):
        print(f"  {rule:40} {count:>8}")
    print(f"records {run.records}")
    print(f"hits {run.hit_count}")
    print(f"queries {counter.count}")
    print(f"peak resident memory {peak_mb:.0f} MB")
    print(f"seconds {seconds:.1f} (target: under 60)")


if __name__ == "__main__":
    main()
