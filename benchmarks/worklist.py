"""Speed of a coordinator's worklist for a site of 10,000 patients (issue 11).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench .venv/bin/python benchmarks/worklist.py \\
        [--patients 10000] [--seed 11] [--runs 10] [--category incomplete_forms] [--setup-only]

PostgreSQL only (the figure is about the production database; SQLite is refused). Writes to the database
of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/registry_bench, which must exist and be
migrated): when the site `worklist-bench` does not hold the synthetic patients of the seed, they are
written (registry/services/synthetic_cohort.py, the `registry` follow-up profile: about 2 lines, 8
assessments and 70 lesion measurements a patient) and derived (registry/services/derivation.py), so that
every category of the worklist has rows: clinical dates end at the cohort's cut-off (2024-06-30), long
before today, so most living patients on a line are overdue for a scan and for a vital status; a few
hundred are given a recent change and Incomplete/Unverified forms. The tables are ANALYZEd afterwards, as
a database in service would be. A coordinator of that site is created when missing.

Then renders the worklist page (GET "/", the first 50 rows of the default category and the count of
every category; with --category, that category's first page) through Django's test Client as that
coordinator: one cold run, then --runs warm runs.
Prints each warm run's milliseconds and queries, their median and the target (median under 500 ms).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench")
# With DEBUG on, Django keeps the text of every query and the debug toolbar may wrap the page.
os.environ["DEBUG"] = "false"
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from registry.models import Patient, PatientVersion, Role, Site, TreatmentLine, TumorAssessment  # noqa: E402
from registry.models.choices import RecordStatus  # noqa: E402
from registry.selectors.worklist import worklist  # noqa: E402
from registry.services.synthetic_cohort import synthetic_cohort_create, synthetic_record_id  # noqa: E402
from benchmarks.query_counter import QueryCounter  # noqa: E402

SITE_CODE = "worklist-bench"
COORDINATOR = "worklist_bench_coordinator"
TARGET_MS = 500
# Every this-many-th patient is given a recent change and Incomplete/Unverified forms.
TOUCHED_EVERY = 40


def cohort(patients: int, seed: int) -> Site:
    """The benchmark's site with its `patients` synthetic patients, written (and derived) when missing."""
    site = Site.objects.filter(code=SITE_CODE).first()
    if site is None:
        site = Site.objects.create(code=SITE_CODE, name="Worklist benchmark")
    prefix = synthetic_record_id(seed, 0)[: -len("000000")]
    existing = Patient.objects.filter(site=site, record_id__startswith=prefix).count()
    if existing == patients:
        return site
    if existing:
        sys.exit(f"The site {SITE_CODE} holds {existing} patients {prefix}..., not {patients}: "
                 "delete them or choose another seed.")
    started = time.perf_counter()
    print(f"writing {patients} synthetic patients {prefix}... at the site {SITE_CODE} ...", flush=True)
    summary = synthetic_cohort_create(patients=patients, seed=seed, site=site, batch_size=500)
    print(f"  {summary.total_rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
    _touch_some(site)
    started = time.perf_counter()
    print("deriving them (data-quality flags) ...", flush=True)
    from registry.services.derivation import patients_derive

    patients_derive(patient_ids=Patient.objects.filter(site=site).values_list("id", flat=True))
    print(f"  derived in {time.perf_counter() - started:.1f} s", flush=True)
    # Statistics for the planner, as a database in service has them (autovacuum would, later).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return site


@transaction.atomic
def _touch_some(site: Site) -> None:
    """Give every TOUCHED_EVERY-th patient a recent change and forms left Incomplete or Unverified (the
    synthetic cohort marks every form Complete), so those categories have rows to count and list."""
    ids = list(Patient.objects.filter(site=site).order_by("id").values_list("id", flat=True))[::TOUCHED_EVERY]
    now = timezone.now()
    PatientVersion.objects.bulk_create(
        [PatientVersion(patient_id=patient_id, number=2, changed_at=now) for patient_id in ids],
        update_conflicts=True, unique_fields=["patient"], update_fields=["number", "changed_at"],
    )
    TreatmentLine.objects.filter(patient_id__in=ids, line_no=1).update(treatment_line_complete=RecordStatus.UNVERIFIED)
    TumorAssessment.objects.filter(patient_id__in=ids).update(tumor_assessment_complete=RecordStatus.INCOMPLETE)
    Patient.objects.filter(id__in=ids).update(vital_status_complete=RecordStatus.INCOMPLETE)


def coordinator(site: Site):
    from django.contrib.auth import get_user_model

    from registry.models import RegistryRole, SiteMembership

    user, _created = get_user_model().objects.get_or_create(username=COORDINATOR)
    RegistryRole.objects.update_or_create(user=user, defaults={"role": Role.COORDINATOR})
    SiteMembership.objects.get_or_create(user=user, site=site)
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--category", default="",
                        help="a category's page instead of the landing page (e.g. incomplete_forms)")
    parser.add_argument("--setup-only", action="store_true", help="write the cohort and stop")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(f"benchmarks/worklist.py measures PostgreSQL; DATABASE_URL points at {connection.vendor}. "
                 "Set DATABASE_URL=postgres://... (default postgres://postgres@127.0.0.1:5432/registry_bench).")

    site = cohort(arguments.patients, arguments.seed)
    user = coordinator(site)
    print(f"site {site.code}: {Patient.objects.filter(site=site).count()} patients, "
          f"{TreatmentLine.objects.filter(patient__site=site).count()} lines, "
          f"{TumorAssessment.objects.filter(patient__site=site).count()} tumor assessments")
    if arguments.setup_only:
        return

    client = Client(HTTP_HOST="localhost")  # one of the default ALLOWED_HOSTS
    client.force_login(user)
    shown = worklist(user, category=arguments.category or None)
    address = f"/?category={arguments.category}" if arguments.category else "/"
    counts = ", ".join(f"{category.label}: {category.count}" for category in shown.categories)
    print(f"the worklist lists {shown.category_label!r} first, {len(shown.rows)} rows of {shown.total}; {counts}")
    counter = QueryCounter()
    timings, queries = [], []
    for run in range(arguments.runs + 1):  # run 0 is the cold run, not counted
        counter.count = 0
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(address)
            elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            sys.exit(f"the worklist answered {response.status_code}")
        if run == 0:
            print(f"cold run: {elapsed_ms:.0f} ms, {counter.count} queries, {len(response.content)} bytes")
            continue
        timings.append(elapsed_ms)
        queries.append(counter.count)

    median = statistics.median(timings)
    print("warm runs (ms): " + ", ".join(f"{value:.0f}" for value in timings))
    print(f"queries per run: {sorted(set(queries))}")
    verdict = "met" if median < TARGET_MS else "MISSED"
    print(f"median of {len(timings)} warm runs: {median:.0f} ms (target: under {TARGET_MS} ms, {verdict})")


if __name__ == "__main__":
    main()
