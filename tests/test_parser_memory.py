"""10 MB of nested "[" sent to every JSON door answers 400 and leaves the server's memory alone.

Peak resident memory is a property of a whole process, so the requests are made in a fresh Python
process (Django's test client against its own SQLite database), which reports each answer's status
and how far its peak resident memory rose above a baseline taken after warming every door up.
Before the bound, ijson built one list per bracket (gigabytes) and json.loads raised RecursionError.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

PAYLOAD_BYTES = 10_000_000
MAX_GROWTH_KIB = 64 * 1024  # ru_maxrss is in KiB on Linux

SCRIPT = r"""
import gc, json, resource, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()  # the test client's host, in-memory e-mail, as under pytest
from django.conf import settings
from django.core.management import call_command

import pytest

# Once, on SQLite: the request parsers refuse the body before any query.
pytestmark = pytest.mark.one_database("sqlite")


class NoMigrations(dict):  # tables straight from the models: faster than running every migration
    def __contains__(self, app):
        return True

    def __getitem__(self, app):
        return None


settings.MIGRATION_MODULES = NoMigrations()
call_command("migrate", run_syncdb=True, verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from registry.models import Role
from registry.services.api_tokens import api_token_create
from tests import factories

site = factories.make_site("site-a", "Hospital A")
user = factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site])
factories.make_patient(site, "P-1")
_, secret = api_token_create(user=user, name="memory")
api = Client(HTTP_AUTHORIZATION=f"Token {secret}")
reply = api.get("/api/v1/patients/P-1/")
assert reply.status_code == 200, (reply.status_code, reply.content[:300])
etag = reply["ETag"]

def rest(method, path):
    def send(body):
        return api.generic(method, path, body, content_type="application/json", HTTP_IF_MATCH=etag)
    return send

# The REDCap bodies are encoded before the baseline: the client's copies are not the server's memory.
def redcap_form_body(body):
    return b"token=" + secret.encode() + b"&content=record&format=json&returnFormat=json&data=" + body

def redcap_multipart_body(body):
    return encode_multipart(BOUNDARY, {
        "token": secret, "content": "record", "format": "json", "returnFormat": "json",
        "data": SimpleUploadedFile("records.json", body, content_type="application/json"),
    })

def redcap_form(body):
    return Client().generic("POST", "/redcap/api/", body, content_type="application/x-www-form-urlencoded")

def redcap_multipart(body):
    return Client().generic("POST", "/redcap/api/", body, content_type=MULTIPART_CONTENT)

doors = {
    "REST patient patch": rest("PATCH", "/api/v1/patients/P-1/"),
    "REST instrument create": rest("POST", "/api/v1/patients/P-1/treatment_line/"),
    "REST nested records upsert": rest("POST", "/api/v1/records/"),
    "REST flat JSON upsert": rest("POST", "/api/v1/records/flat/"),
    "REDCap import, form-encoded data": redcap_form,
    "REDCap import, data as a multipart file": redcap_multipart,
}
encoders = {"REDCap import, form-encoded data": redcap_form_body,
            "REDCap import, data as a multipart file": redcap_multipart_body}
for name, send in doors.items():  # warm up: imports, URL resolution, first queries
    send(encoders.get(name, bytes)(b"[" * 100))
payload = b"[" * int(sys.argv[1])
bodies = {name: encoders.get(name, bytes)(payload) for name in doors}


def answer(send, body):
    # The test client's response keeps its request, and so the client's copy of the body, in a
    # reference cycle (response.json): collected at once, it is not counted against the next door.
    response = send(body)
    status, content = response.status_code, json.loads(response.content)
    del response
    gc.collect()
    return [status, content]


baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
answers = {name: answer(send, bodies.pop(name)) for name, send in doors.items()}
growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline
print(json.dumps({"answers": answers, "growth_kib": growth}))
"""


def test_ten_megabytes_of_brackets_at_every_json_door_answer_400_within_64_mib(tmp_path):
    root = Path(__file__).resolve().parent.parent
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'memory.sqlite3'}",
    }
    environment.pop("CELERY_BROKER_URL", None)

    finished = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(PAYLOAD_BYTES)], cwd=root, env=environment,
        capture_output=True, text=True, timeout=120, check=False,
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads(finished.stdout.splitlines()[-1])
    rest_detail = {"detail": "JSON nested deeper than 64 levels (at byte 65)."}
    redcap_error = {"error": "The data parameter cannot be read: JSON nested deeper than 64 levels (at byte 65)"}
    assert report["answers"] == {
        "REST patient patch": [400, rest_detail],
        "REST instrument create": [400, rest_detail],
        "REST nested records upsert": [400, rest_detail],
        "REST flat JSON upsert": [400, rest_detail],
        "REDCap import, form-encoded data": [400, redcap_error],
        "REDCap import, data as a multipart file": [400, redcap_error],
    }
    assert report["growth_kib"] < MAX_GROWTH_KIB
    print(f"peak resident memory grew by {report['growth_kib']} KiB")  # shown with -s
