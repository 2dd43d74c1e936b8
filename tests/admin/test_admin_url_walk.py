"""Every admin URL × every role × GET and POST: whoever lacks the right changes nothing.

The URLs come from the admin site itself (tests/admin/admin_urls.py), so a page added later is
walked without anyone remembering to; one this walk cannot fill in fails the tests. Each POST carries
a payload that would change data if accepted (the form as rendered for a superuser, one field
changed; a delete's confirmation; a changelist action on site B's rows; a file changing site B's
record), and the first test below proves it: posted by a superuser, each write payload does change
the database. Every POST runs in a transaction rolled back afterwards, so the walk can go on over the
same world; the database is compared, every row of every registry, auth and admin-log table
(history tables included), before and after each POST of a role without the right.
"""
import csv
import io
from dataclasses import dataclass, field as dataclass_field
from types import SimpleNamespace
from datetime import date

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.admin.mixins import RegistryAccessMixin
from registry.models import (
    AnalysisSettings, ApiToken, ExportDoor, ExportJob, IdentifiedExport, QualityRule, RegistryRole, Role, Site, SiteMembership,
    WorkspaceSettings,
    DataCut,
    DerivationRun,
)
from registry.services.api_tokens import api_token_create
from registry.services.queries import query_open
from registry.services.data_cuts import data_cut_freeze
from registry.services.derivation_runs import derivation_run_start
from registry.services.records import records_export
from tests import factories
from tests.access_roles import CASES, CHANGES, ROLES, SEES, user_for

from .admin_pages import form_data_of
from .admin_urls import OBJECT_REDIRECT, admin_urls

# Once, on SQLite: who may reach and change what through the admin is Django's and our permission code, the
# same on both.
pytestmark = pytest.mark.one_database("sqlite")

User = get_user_model()
# Sessions are left out: logging in writes them.
SNAPSHOT_APPS = ("registry", "auth", "admin", "axes", "otp_totp")

# Kinds of URL through which no role of the matrix may write, whatever the model: history pages are
# read-only for everyone; reports, previews and downloads only read.
READ_ONLY_KINDS = {
    "history", "history_version", OBJECT_REDIRECT, "study_report", "data_quality", "audit_trail",
    "import_redcap", "export_redcap", "spreadsheet_import", "spreadsheet_export", "export_download",
}
# Kinds whose URL names one object.
OBJECT_KINDS = {"change", "delete", "history", "history_version", OBJECT_REDIRECT, "audit_trail", "export_download",
                "password_change"}
# Kinds answering GET with a page (the others take POST only, or redirect).
NO_GET_PAGE_KINDS = {"confirm_redcap", "spreadsheet_process_import", OBJECT_REDIRECT, "export_download"}


def _administrator(case: str, kind: str, site: str) -> bool:
    return CASES[case].role == Role.ADMINISTRATOR


def _nobody(case: str, kind: str, site: str) -> bool:
    return False


def _patient(case: str, kind: str, site: str) -> bool:
    if kind in ("delete", "changelist"):  # deleting a patient deletes its every instrument
        return CASES[case].role == Role.ADMINISTRATOR
    return site in CHANGES[case]


def _instrument(case: str, kind: str, site: str) -> bool:
    return site in CHANGES[case]


def _settings_row(case: str, kind: str, site: str) -> bool:
    return kind == "change" and CASES[case].role == Role.ADMINISTRATOR  # one row, never added again or deleted


def _own_rows(case: str, kind: str, site: str) -> bool:
    # Tokens and export jobs: anyone with a role asks for their own; the world's rows are someone
    # else's, which only an administrator may revoke (tokens) and nobody edits.
    if kind == "add":
        return CASES[case].role is not None
    return False


def _api_tokens(case: str, kind: str, site: str) -> bool:
    if kind == "changelist":  # the revoke action on another user's token
        return CASES[case].role == Role.ADMINISTRATOR
    return _own_rows(case, kind, site)


def _data_cuts(case: str, kind: str, site: str) -> bool:
    return kind == "add" and CASES[case].role == Role.ADMINISTRATOR  # freezing; a cut is never changed or deleted


# Who may change data through a URL of each registered model: (case, kind, site of the object) → bool.
# Site-scoped models are walked with their site A and site B objects; the others with one object ("-").
RIGHTS = {
    "registry.Patient": _patient,
    "registry.TreatmentLine": _instrument,
    "registry.LocalTherapy": _instrument,
    "registry.TumorAssessment": _instrument,
    "registry.Lesion": _instrument,
    "registry.LesionMeasurement": _instrument,
    "registry.Biopsy": _instrument,
    "registry.NgsVariant": _instrument,
    "registry.Site": _administrator,
    "registry.RegistryRole": _administrator,
    "registry.SiteMembership": _administrator,
    "registry.AnalysisSettings": _settings_row,
    "registry.WorkspaceSettings": _settings_row,
    "registry.ApiToken": _api_tokens,
    "registry.ExportJob": _own_rows,
    "registry.DataCut": _data_cuts,
    "auth.User": _nobody,  # superusers only, and no case of the matrix is a superuser
    "auth.Group": _nobody,
    "registry.IdentifiedExport": _nobody,  # administrators read it; nobody writes it through the admin
    "registry.SoftCheckConfirmation": _nobody,  # read by the access rule; written by the workspace only
    "registry.RecordLock": _nobody,  # read by the access rule; written by the lock services only
    "registry.RecordSignature": _nobody,
    "registry.Query": _nobody,  # read by the access rule; written by the workspace and the API's services only
    # django-axes and django-otp (registry/admin/third_party.py): Django's permissions, superusers only.
    "axes.AccessAttempt": _nobody,
    "axes.AccessLog": _nobody,
    "axes.AccessFailureLog": _nobody,
    "otp_totp.TOTPDevice": _nobody,
    "registry.QualityRule": _administrator,  # custom data-quality rules (data managers write them in the workspace)
    "registry.DerivationRun": _nobody,  # administrators read it; the derivation services write it
}


def may_change(case: str, url, site: str) -> bool:
    if url.kind in READ_ONLY_KINDS:
        return False
    return RIGHTS[url.model._meta.label](case, url.kind, site)


# ------------------------------------------------------------------ the world


@dataclass
class Walk:
    world: object
    superuser: object
    spare: object
    second_lesion: object
    client: Client  # the superuser's
    objects: dict  # model label → {site: object}
    cases: list = dataclass_field(default_factory=list)  # (url, site, object, payload), from walked_cases


def _site_scoped(model_admin) -> bool:
    return isinstance(model_admin, RegistryAccessMixin)


def build_walk(site_a, site_b) -> Walk:
    patients = {"A": factories.make_full_patient(site_a, "P-A"), "B": factories.make_full_patient(site_b, "P-B")}
    world = SimpleNamespace(sites={"A": site_a, "B": site_b}, patients=patients)
    superuser = factories.make_user("walk_superuser", superuser=True)
    member = factories.make_user("member_of_b", role=Role.COORDINATOR, sites=[site_b])
    spare = factories.make_user("spare_user")  # no role, no token: a user account any page may name
    second_lesion = factories.make_lesion(patients["B"], les_id="L2")  # measured by the added measurement
    for patient in patients.values():  # a confirmed soft check of each site's patient
        patient.soft_check_confirmations.create(form="tumor_assessment", instance=1, field="ta_date",
                                                check_code="scan_after_death", value="2020-03-04", door="workspace")
        # A lock lifted already (one in force would refuse the walk's writes) and a signature.
        patient.locks.create(form="", locked_by=superuser, locked_at=timezone.now(), unlocked_by=superuser,
                             unlocked_at=timezone.now(), unlock_reason="walk")
        patient.signatures.create(signed_by=superuser, signed_at=timezone.now(), meaning="walk", content_hash="0" * 64)
    for patient in patients.values():  # a query on each site's patient, with its thread
        query_open(patient=patient, user=superuser, text="Is the line start right?", form="treatment_line",
                   instance=1, field="line_start")
    settings_row = AnalysisSettings.objects.create(pk=1, data_cutoff=date(2023, 12, 31))
    workspace_settings = WorkspaceSettings.objects.create(pk=1)
    token, _secret = api_token_create(user=member, name="member's token")
    job = ExportJob.objects.create(requested_by=member, dataset="lines", file_format="csv", deidentified=True)
    group = Group.objects.create(name="a group")
    data_cut = data_cut_freeze(name="walk cut")
    exported = IdentifiedExport.objects.create(
        user=member, username=member.username, door=ExportDoor.ADMIN_SPREADSHEET, content="lines", file_format="csv",
    )
    now = timezone.now()
    lockout = {"username": member.username, "ip_address": "192.0.2.1", "user_agent": "walk", "http_accept": "*/*",
               "path_info": "/admin/login/"}
    attempt = AccessAttempt.objects.create(**lockout, failures_since_start=1, attempt_time=now)
    access_log = AccessLog.objects.create(**lockout, attempt_time=now)
    failure_log = AccessFailureLog.objects.create(**lockout, attempt_time=now, locked_out=False)
    device = TOTPDevice.objects.create(user=member, name="member's phone", confirmed=True)
    client = Client()
    client.force_login(superuser)
    one_object = {
        "registry.RegistryRole": RegistryRole.objects.get(user=member),
        "registry.SiteMembership": SiteMembership.objects.get(user=member),
        "registry.AnalysisSettings": settings_row,
        "registry.WorkspaceSettings": workspace_settings,
        "registry.ApiToken": token,
        "registry.ExportJob": job,
        "registry.DataCut": data_cut,
        "auth.User": spare,
        "auth.Group": group,
        "registry.IdentifiedExport": exported,
        "axes.AccessAttempt": attempt,
        "axes.AccessLog": access_log,
        "axes.AccessFailureLog": failure_log,
        "otp_totp.TOTPDevice": device,
        "registry.QualityRule": QualityRule.objects.create(name="walk rule", logic="[sex] = '9'"),
        "registry.DerivationRun": derivation_run_start(
            patient_ids=[patients["A"].id, patients["B"].id], trigger=DerivationRun.Trigger.COMMAND),
    }
    objects = {}
    for url in admin_urls():
        label = url.model._meta.label
        if label in objects:
            continue
        if _site_scoped(url.model_admin):
            rows = list(url.model._base_manager.all())
            objects[label] = {
                site: next(row for row in rows if url.model_admin.site_id_of(row) == world.sites[site].id)
                for site in ("A", "B")
            }
        else:
            objects[label] = {"-": one_object[label]}
    return Walk(world, superuser, spare, second_lesion, client, objects)


# ------------------------------------------------------------------ what is compared


def database_snapshot() -> dict:
    """Every row of every table of the registry (history tables included), auth and the admin log."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in SNAPSHOT_MODELS
    }


# auth.Permission is left out: Django's own list of permissions, which no admin page writes (and the
# largest table here); which user or group holds which permission is in the tables kept.
SNAPSHOT_MODELS = [
    model for model in apps.get_models(include_auto_created=True)
    if model._meta.app_label in SNAPSHOT_APPS and model._meta.label != "auth.Permission"
]


# Logs that reading doors append to: the identified-export log gains a row with every identified
# download a role is allowed (the REDCap records export, a spreadsheet). Their rows already written
# must stay as they were; a row added is not a write through the admin.
APPEND_ONLY = {"registry.IdentifiedExport"}


def changed_tables(before: dict, after: dict) -> list[str]:
    return [
        label for label in before
        if (after[label][:len(before[label])] if label in APPEND_ONLY else after[label]) != before[label]
    ]


# ------------------------------------------------------------------ filling in each URL


def url_of(url, obj, walk: Walk) -> str:
    kind = url.kind
    if kind in ("changelist", "add", "data_quality", "import_redcap", "confirm_redcap",
                "export_redcap", "spreadsheet_import", "spreadsheet_process_import", "spreadsheet_export"):
        return reverse(f"admin:{url.name}")
    if kind == "study_report":
        # The JSON download: the same report and access rule, without drawing the figures (seconds).
        return reverse(f"admin:{url.name}") + "?format=json"
    if kind == OBJECT_REDIRECT:
        return reverse(f"admin:{url.name.removesuffix(OBJECT_REDIRECT)}change", args=[quote(obj.pk)]).removesuffix(
            "change/")
    if kind == "history_version":
        version = obj.history.order_by("-history_id").first()
        return reverse(f"admin:{url.name}", args=[quote(obj.pk), version.history_id])
    return reverse(f"admin:{url.name}", args=[quote(obj.pk)])


def _with_one_field_changed(data: dict, form) -> dict:
    """`data` with one field of `form` changed: the first text field holding a value (else the first
    empty one), else the first choice field, set to another of its choices. A form without any
    editable field (a read-only page) is posted as it is."""
    editable = [(name, field) for name, field in form.fields.items()
                if not field.disabled and form[name].html_name in data]
    text_fields = [(name, field) for name, field in editable if type(field) is forms.CharField]
    filled = [(name, field) for name, field in text_fields if data[form[name].html_name]]
    for name, field in filled or text_fields:
        key = form[name].html_name
        value = f"{data[key]}x"
        data[key] = value[-field.max_length:] if field.max_length else value
        return data
    for name, field in editable:
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            key = form[name].html_name
            others = [str(value) for value, _label in field.choices if str(value) not in ("", str(data[key]))]
            if others:
                data[key] = others[0]
                return data
    return data


# The field a change page's payload changes, where the first text field cannot change alone (the
# model's clean() ties it to another field).
FIELD_TO_CHANGE = {
    "registry.TreatmentLine": ("line_ecog", "2"),
    "registry.LesionMeasurement": ("lm_mm", "25.00"),
}


def _change_payload(walk: Walk, page_url: str, model) -> dict:
    response = walk.client.get(page_url)
    assert response.status_code == 200, page_url
    data = form_data_of(response)
    if model._meta.label in FIELD_TO_CHANGE:
        name, value = FIELD_TO_CHANGE[model._meta.label]
        data[name] = value
        return data
    return _with_one_field_changed(data, response.context["adminform"].form)


def _add_payload(walk: Walk, url, source) -> dict:
    """The change form of site B's object as a new object: unique values changed, inline rows left out."""
    data = _change_payload(
        walk, reverse(f"admin:{url.name.removesuffix('add')}change", args=[quote(source.pk)]), url.model)
    for key in [key for key in data if key.endswith("-TOTAL_FORMS") or key.endswith("-INITIAL_FORMS")]:
        data[key] = "0"
    # The values each model keeps unique, made new.
    new_values = {"record_id": "P-NEW", "line_no": "7", "les_id": "L7", "code": "site-c",
                  "lesion": str(walk.second_lesion.pk), "user": str(walk.spare.pk),
                  "ta_date": "2024-02-01", "bx_date": "2024-02-01"}
    data.update({name: value for name, value in new_values.items() if name in data})
    if hasattr(source, "patient_id"):
        data["patient"] = str(source.patient_id)
    return data


def _csv_bytes(rows: list[dict]) -> bytes:
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue().encode("utf-8")


def _flat_file_changing_record_b(walk: Walk) -> bytes:
    """A REDCap flat CSV of record P-B whose sex is changed from female (2) to male (1)."""
    exported = io.StringIO()
    records_export(output=exported, user=walk.superuser, records=["P-B"], file_format="csv")
    rows = [row for row in csv.DictReader(io.StringIO(exported.getvalue())) if not row.get("redcap_repeat_instrument")]
    rows[0]["sex"] = "1"
    return _csv_bytes(rows)


def _spreadsheet_file_changing_site_b(walk: Walk, url) -> bytes:
    """The instrument's spreadsheet (its django-import-export resource, as CSV) of site B's rows, one
    value changed: the last date known alive of the vital-status sheet, the allele fraction of the
    NGS-variant sheet."""
    resource = url.model_admin.resource_classes[0](user=walk.superuser)
    rows = resource.export(queryset=url.model._base_manager.filter(
        **{url.model_admin.site_path: walk.world.sites["B"].pk})).dict
    changed_column, new_value = {
        "registry.Patient": ("last_alive_date", "2023-12-01"), "registry.NgsVariant": ("var_vaf", "12.5"),
    }[url.model._meta.label]
    rows[0][changed_column] = new_value
    return _csv_bytes(rows)


def _with_files(payload: dict) -> dict:
    """The payload with each (name, bytes) value as a fresh uploaded file (a file is read once)."""
    return {
        key: SimpleUploadedFile(value[0], value[1]) if isinstance(value, tuple) else value
        for key, value in payload.items()
    }


def post(client: Client, url, obj, walk: Walk, payload: dict):
    """POST `payload` to the URL, doing first whatever step the URL needs in the same session."""
    address = url_of(url, obj, walk)
    if url.kind == "confirm_redcap":
        # The upload is kept for confirmation in the uploader's session: upload first, as this client.
        staged = client.post(reverse("admin:registry_patient_import_redcap"), _with_files(payload))
        token = (staged.context or {}).get("token") if staged.status_code == 200 else None
        return client.post(address, {"token": token or "A" * 32})
    if url.kind == "spreadsheet_process_import":
        # The checked upload a superuser would confirm, posted by this client.
        import_url = reverse(f"admin:{url.name.removesuffix('process_import')}import")
        checked = walk.client.post(import_url, _with_files(payload))
        return client.post(address, dict(checked.context["confirm_form"].initial))
    return client.post(address, _with_files(payload))


def rolled_back_post(client: Client, url, obj, walk: Walk, payload, before: dict):
    """POST in a transaction rolled back afterwards; returns the answer and the tables it changed."""
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with transaction.atomic():
        response = post(client, url, obj, walk, payload)
        changed = changed_tables(before, database_snapshot())
        transaction.set_rollback(True)
    # A page may have given the session a new key (the password page does); the rollback brought
    # the old session back, so the client goes back to it.
    client.cookies[settings.SESSION_COOKIE_NAME] = session_cookie
    return response, changed


def payload_for(url, obj, walk: Walk) -> dict | None:
    kind = url.kind
    if kind == "change":
        if (url.model._meta.label, kind) in SUPERUSER_REFUSED:
            return {}  # nobody edits these rows: there is no form to fill in
        return _change_payload(walk, url_of(url, obj, walk), url.model)
    if kind == "history_version":
        return _change_payload(walk, url_of(url, obj, walk), url.model)
    if kind == "add":
        if url.model is ApiToken:
            return {"user": str(walk.spare.pk), "name": "a new token"}
        if url.model is ExportJob:
            return {"dataset": "lines", "file_format": "csv"}  # identified: no de-identification key needed
        if url.model is AnalysisSettings:
            return {"data_cutoff": "2024-01-01"}
        if url.model is DataCut:
            return {"name": "another cut"}
        if url.model is WorkspaceSettings:
            return {field.name: "30" for field in WorkspaceSettings._meta.concrete_fields if field.editable
                    and field.name != "id"}
        if url.model is User:
            page = walk.client.get(reverse("admin:auth_user_add"))
            return {**form_data_of(page), "username": "new_user", "password1": "a-Long-pass-123",
                    "password2": "a-Long-pass-123", "usable_password": "true"}
        if url.model is Group:
            return {"name": "another group"}
        if url.model is TOTPDevice:
            return {"user": str(walk.spare.pk), "name": "a new phone", "confirmed": "on", "key": "ab" * 20,
                    "step": "30", "t0": "0", "digits": "6", "tolerance": "1", "drift": "0",
                    "throttling_failure_count": "0"}
        return _add_payload(walk, url, obj)
    if kind == "delete":
        return {"post": "yes"}
    if kind == "changelist":
        action = "revoke_tokens" if url.model is ApiToken else "delete_selected"
        return {"action": action, "_selected_action": [str(obj.pk)], "post": "yes", "index": "0"}
    if kind in ("import_redcap", "confirm_redcap"):
        return {"file": ("records-b.csv", _flat_file_changing_record_b(walk)),
                "site": str(walk.world.sites["B"].pk), "overwrite_behavior": "normal"}
    if kind in ("spreadsheet_import", "spreadsheet_process_import"):
        spreadsheet = ("spreadsheet.csv", _spreadsheet_file_changing_site_b(walk, url))
        return {"format": "0", "resource": "0", "import_file": spreadsheet}
    if kind == "password_change":
        return {"password1": "a-Long-pass-123", "password2": "a-Long-pass-123", "usable_password": "true"}
    return {}


def walked_cases(walk: Walk):
    """(url, site, object, payload) for every URL: each object URL with each of its objects."""
    for url in admin_urls():
        objects = walk.objects[url.model._meta.label]
        if url.kind in OBJECT_KINDS:
            sites = list(objects)  # each object: site A's and site B's
        else:
            sites = ["B"] if "B" in objects else list(objects)  # one page; actions and files aim at site B
        for site in sites:
            obj = objects[site]
            yield url, site, obj, payload_for(url, obj, walk)


# Write payloads a superuser's POST must carry through (it proves they would change data if accepted);
# history pages, and the rows below, must change nothing even for a superuser.
SUPERUSER_CANNOT_WRITE = {"history", "history_version"}
SUPERUSER_REFUSED = {
    # One row of settings, never deleted nor added twice.
    ("registry.AnalysisSettings", "add"), ("registry.AnalysisSettings", "delete"),
    ("registry.AnalysisSettings", "changelist"),
    ("registry.WorkspaceSettings", "add"), ("registry.WorkspaceSettings", "delete"),
    ("registry.WorkspaceSettings", "changelist"),
    # A site holding patients is never deleted (its patients are protected).
    ("registry.Site", "delete"), ("registry.Site", "changelist"),
    # Tokens are revoked, never edited or deleted; export jobs are only asked for.
    ("registry.ApiToken", "change"), ("registry.ApiToken", "delete"),
    ("registry.ExportJob", "change"), ("registry.ExportJob", "delete"), ("registry.ExportJob", "changelist"),
    # A data cut is frozen, never changed or deleted.
    ("registry.DataCut", "change"), ("registry.DataCut", "delete"), ("registry.DataCut", "changelist"),
    # django-axes writes its rows itself; nobody adds one.
    ("axes.AccessAttempt", "add"), ("axes.AccessLog", "add"), ("axes.AccessFailureLog", "add"),
    # The identified-export log is written by the doors that export, never through its admin.
    ("registry.IdentifiedExport", "add"), ("registry.IdentifiedExport", "change"),
    ("registry.IdentifiedExport", "delete"), ("registry.IdentifiedExport", "changelist"),
    # Soft-check confirmations are written by the workspace, never through their admin.
    ("registry.SoftCheckConfirmation", "add"), ("registry.SoftCheckConfirmation", "change"),
    ("registry.SoftCheckConfirmation", "delete"), ("registry.SoftCheckConfirmation", "changelist"),
    # Locks and signatures are made in the workspace (registry/services/locks.py), never through their admin.
    ("registry.RecordLock", "add"), ("registry.RecordLock", "change"),
    ("registry.RecordLock", "delete"), ("registry.RecordLock", "changelist"),
    ("registry.RecordSignature", "add"), ("registry.RecordSignature", "change"),
    ("registry.RecordSignature", "delete"), ("registry.RecordSignature", "changelist"),
    # Queries are written by their services (workspace and REST API), never through their admin.
    ("registry.Query", "add"), ("registry.Query", "change"), ("registry.Query", "delete"),
    ("registry.Query", "changelist"),
    # Derivation runs are written by the derivation services, never through their admin.
    ("registry.DerivationRun", "add"), ("registry.DerivationRun", "change"), ("registry.DerivationRun", "delete"),
    ("registry.DerivationRun", "changelist"),
}


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker):
    """One world and its payloads for the whole module (building them costs seconds), in a transaction
    rolled back when the module ends; each test's own transaction is a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_walk(factories.make_site("site-a", "Hospital A"), factories.make_site("site-b", "Hospital B"))
        built.cases = list(walked_cases(built))
        yield built
        transaction.set_rollback(True)


def test_every_write_payload_of_the_walk_changes_the_database_when_a_superuser_posts_it(walk, db):
    before = database_snapshot()
    not_written, written_read_only = [], []
    for url, site, obj, payload in walk.cases:
        if url.kind in READ_ONLY_KINDS - {"history", "history_version"}:
            continue  # pages that only read: the roles' walk below shows they write nothing
        response, changed = rolled_back_post(walk.client, url, obj, walk, payload, before)
        assert response.status_code < 500, (str(url), site)
        refused = url.kind in SUPERUSER_CANNOT_WRITE or (url.model._meta.label, url.kind) in SUPERUSER_REFUSED
        if refused and changed:
            written_read_only.append((str(url), site, response.status_code, changed))
        if not refused and not changed:
            not_written.append((str(url), site, response.status_code))

    assert written_read_only == []
    assert not_written == []


@pytest.mark.parametrize("role", ROLES)
def test_no_role_changes_anything_through_any_admin_url_without_the_right(walk, db, role):
    client = Client()
    client.force_login(user_for(role, walk.world))
    before = database_snapshot()
    refused_pages, server_errors = [], []
    for url, site, obj, payload in walk.cases:
        page = client.get(url_of(url, obj, walk))
        if page.status_code >= 500:
            server_errors.append(("GET", str(url), site, page.status_code))
        if may_change(role, url, site):
            if url.kind not in NO_GET_PAGE_KINDS and page.status_code != 200:
                refused_pages.append((str(url), site, page.status_code))
            continue  # what a right allows is each page's own tests' business; here: refusals
        # Not rolled back: a refused POST writes nothing, so the world stays as it was for the next URL.
        response = post(client, url, obj, walk, payload)
        if response.status_code >= 500:
            server_errors.append(("POST", str(url), site, response.status_code))

    changed = changed_tables(before, database_snapshot())
    assert (server_errors, refused_pages, changed) == ([], [], [])


# ------------------------------------------------------------------ unseen answers as missing


def _sees_row(case: str, label: str, site: str) -> bool:
    """Whether the case may see the walk's object of `label` at `site` ("-" for unscoped models)."""
    role = CASES[case].role
    if site in ("A", "B"):  # patients, instruments and sites: the access rule's sites
        return site in SEES[case]
    if label in ("registry.RegistryRole", "registry.SiteMembership", "registry.ApiToken"):
        return role == Role.ADMINISTRATOR  # the token is another user's: administrators see every token
    if label in ("registry.AnalysisSettings", "registry.WorkspaceSettings"):
        return role is not None
    if label in ("registry.IdentifiedExport", "registry.QualityRule", "registry.DerivationRun"):
        return role == Role.ADMINISTRATOR
    if label == "registry.DataCut":  # every role exports from cuts
        return role is not None
    return False  # another user's export job; user accounts and groups (superusers only)


MISSING_ID = 987654321
# Object URLs that look an object up; Django's "<id>/" only redirects to the change page, whatever the id.
LOOKUP_KINDS = OBJECT_KINDS - {OBJECT_REDIRECT}


def _missing_url(url, obj, walk: Walk) -> str:
    if url.kind == "history_version":  # a version id that exists, of an object id that does not
        version = obj.history.order_by("-history_id").first()
        return reverse(f"admin:{url.name}", args=[MISSING_ID, version.history_id])
    return reverse(f"admin:{url.name}", args=[MISSING_ID])


def _answer(response) -> tuple:
    return response.status_code, sorted(response.items()), response.content


@pytest.mark.parametrize("role", ROLES)
def test_every_object_page_answers_an_object_the_role_may_not_see_byte_for_byte_as_a_missing_id(walk, db, role):
    client = Client()
    client.force_login(user_for(role, walk.world))
    compared, different = 0, []
    for url in admin_urls():
        if url.kind not in LOOKUP_KINDS:
            continue
        for site, obj in walk.objects[url.model._meta.label].items():
            if _sees_row(role, url.model._meta.label, site):
                continue
            for method in (client.get, client.post):
                unseen = method(url_of(url, obj, walk))
                missing = method(_missing_url(url, obj, walk))
                compared += 1
                if _answer(unseen) != _answer(missing) or unseen.status_code != 404:
                    different.append((str(url), site, method.__name__, unseen.status_code, missing.status_code))

    assert different == []
    assert compared > 0


# ------------------------------------------------------------------ a URL added later


def test_an_admin_url_the_walk_does_not_know_fails_the_walk():
    from django.contrib import admin as django_admin
    from django.urls import path

    from .admin_urls import UnknownAdminUrl

    class SiteAdminWithANewPage(django_admin.ModelAdmin):
        def get_urls(self):
            return [path("merge/", self.admin_site.admin_view(lambda request: None), name="registry_site_merge"),
                    *super().get_urls()]

    site = django_admin.AdminSite(name="walk_test")
    site.register(Site, SiteAdminWithANewPage)

    with pytest.raises(UnknownAdminUrl, match="'registry_site_merge'"):
        admin_urls(site)


def test_every_registered_model_has_its_rights_written_down():
    assert sorted({url.model._meta.label for url in admin_urls()}) == sorted(RIGHTS)
