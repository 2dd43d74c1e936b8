"""Speed, queries and memory of the REST API's bulk upsert of nested records (POST /api/v1/records/).

    createdb -h 127.0.0.1 -U postgres registry_bench_api
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench_api .venv/bin/python benchmarks/api_bulk.py \\
        [--patients 1000] [--seed 11]

FLUSHES the database of DATABASE_URL (refuses SQLite unless --allow-sqlite). For N/4 and then N
invented patients with their full follow-up (registry/services/synthetic_cohort.py, the `registry`
profile: every instrument, about 93 rows a patient), builds the nested JSON a site would send,
then posts it through the whole stack in-process (Django's test client: authentication, rate limit,
the streamed body, the conversion to flat rows, the REDCap import, the version bump), and prints:

- the upsert into an empty registry: seconds, queries, rows per second;
- the same request again (idempotent: nothing written): seconds and queries;
- peak memory: resident (ru_maxrss) and traced Python allocations, on a separate run under
  tracemalloc (which slows Python about twofold).

Queries grow with the number of chunks of 1,000 rows of an instrument (registry/records/flat_import.py
CHUNK_ROWS), not with the number of rows or patients one by one. The derivation the commit queues
is not run here (in production a Celery worker runs it; benchmarks/derive.py measures it).
Target: 1,000 patients in under 30 seconds.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps the text of every query: that would be measured as the upsert's.
os.environ["DEBUG"] = "false"
os.environ.pop("CELERY_BROKER_URL", None)

import django  # noqa: E402 - settings must be chosen first

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from registry import tasks  # noqa: E402
from registry.api import record_format  # noqa: E402
from registry.models import Patient, Role, Site  # noqa: E402
from registry.services.api_tokens import api_token_create  # noqa: E402
from registry.services.synthetic_cohort import synthetic_patient  # noqa: E402
from benchmarks.query_counter import QueryCounter  # noqa: E402
from tests import factories  # noqa: E402

FORMS = (
    ("treatment_line", "treatment_lines"), ("local_therapy", "local_therapies"),
    ("tumor_assessment", "tumor_assessments"), ("lesion", "lesions"),
    ("lesion_measurement", "lesion_measurements"), ("biopsy", "biopsies"), ("ngs_variant", "ngs_variants"),
)
# What a measurement or variant names, read from the unsaved instances it points at.
REFERENCES = {
    "lesion_measurement": lambda m: {"lm_date": m.assessment.ta_date.isoformat(), "lm_lesion": m.lesion.les_id},
    "ngs_variant": lambda v: {"var_bx_date": v.biopsy.bx_date.isoformat()},
}


def nested_payload(path: Path, *, patients: int, seed: int, site: Site) -> int:
    """Writes the nested JSON list of `patients` invented patients to `path`; returns its row count."""
    rows = 0
    with path.open("w", encoding="utf-8") as output:
        output.write("[")
        for number in range(1, patients + 1):
            generated = synthetic_patient(seed=seed, number=number, site=site)
            patient = generated.patient
            record = {"record_id": patient.record_id, **record_format.form_values("enrollment", patient),
                      "vital_status": record_format.form_values("vital_status", patient)}
            rows += 1
            for form, attribute in FORMS:
                instances = []
                for instance in getattr(generated, attribute):
                    values = {"redcap_repeat_instance": instance.redcap_repeat_instance,
                              **record_format.form_values(form, instance)}
                    values.update(REFERENCES.get(form, lambda _: {})(instance))
                    instances.append(values)
                record[form] = instances
                rows += len(instances)
            output.write(("," if number > 1 else "") + "\n" + json.dumps(record))
        output.write("\n]\n")
    return rows


def post(client: Client, body: bytes, secret: str):
    return client.generic("POST", "/api/v1/records/", body, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Token {secret}", SERVER_NAME="localhost")


def fresh_registry() -> tuple[Site, str]:
    call_command("flush", interactive=False, verbosity=0)
    site = Site.objects.create(code="bench-api", name="API benchmark hospital")
    user = factories.make_user("bench_coordinator", role=Role.COORDINATOR, sites=[site])
    _, secret = api_token_create(user=user, name="benchmark")
    return site, secret


def run(directory: Path, patients: int, seed: int, *, memory: bool) -> None:
    site, secret = fresh_registry()
    payload = directory / f"records-{patients}.json"
    rows = nested_payload(payload, patients=patients, seed=seed, site=site)
    body = payload.read_bytes()
    client = Client()
    if memory:
        tracemalloc.start()
        response = post(client, body, secret)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert response.status_code == 200, response.content[:2000]
        print(f"{patients:>6} patients  peak traced {peak / 1_048_576:7.1f} MiB   "
              f"resident {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.1f} MiB (process peak)")
        return
    print(f"-- {patients} patients, {rows} rows, {len(body) / 1_048_576:.1f} MiB of nested JSON")
    for label in ("upsert", "repeat"):
        counter = QueryCounter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = post(client, body, secret)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{label}: {response.status_code} {response.content[:2000]!r}")
        result = response.json()
        written = sum(result["created"].values()) + sum(result["updated"].values())
        print(f"{label:<7} {seconds:7.2f} s {rows / seconds:8.0f} rows/s {counter.count:6} queries "
              f"{written:7} instances written")
    assert Patient.objects.count() == patients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--allow-sqlite", action="store_true")
    options = parser.parse_args()
    if connection.vendor != "postgresql" and not options.allow_sqlite:
        raise SystemExit("Run it on PostgreSQL (DATABASE_URL=postgres://...), or pass --allow-sqlite.")
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    # In production a Celery worker derives the written patients after the commit; not measured here.
    tasks.derive_patients_task.delay = lambda patient_ids: None
    limits = {"REGISTRY_API_BULK_MAX_BYTES": 1 << 30,
              "REST_FRAMEWORK": {**django.conf.settings.REST_FRAMEWORK,
                                 "DEFAULT_THROTTLE_RATES": {"api": "1000/minute", "api_bulk": "1000/minute"}}}
    with override_settings(**limits), tempfile.TemporaryDirectory(prefix="registry-api-bench-") as directory:
        for patients in (max(1, options.patients // 4), options.patients):
            run(Path(directory), patients, options.seed, memory=False)
        run(Path(directory), options.patients, options.seed, memory=True)


if __name__ == "__main__":
    main()
