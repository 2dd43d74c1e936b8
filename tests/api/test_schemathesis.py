"""The OpenAPI schema, fuzzed: schemathesis sends requests generated from /api/schema/ to every
operation and checks that no answer is a server error or breaks the schema (status code, content
type, headers, body), and that no request the schema calls valid is refused (400, 406, 412, 413,
415, 428) unless for a rule the schema cannot state: one that depends on stored records or on how
the values of one request relate (CROSS_RECORD_REFUSALS below, each with its reason).

Bounded so that CI stays fast: at most MAX_EXAMPLES generated requests per operation (about 60
operations), no shrinking of failures (a failing example is printed as it was found; shrink it by
hand with `--hypothesis-seed`), no deadline. Requests go through the WSGI app inside the test's
transaction, as an administrator (who may call every operation), with a patient of every
instrument whose record ID the generated paths use one time in two.
"""
import json
import re

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.db import close_old_connections
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, positive_data_acceptance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from tests import factories

from .conftest import token_client

MAX_EXAMPLES = 10
RECORD_ID = "P-A"

# Refusals of requests the schema calls valid that it cannot prevent: (status, field, reason pattern).
# Everything else the server checks (lengths, ranges, codes, date-times with a time zone, record ID
# patterns, unknown fields, the shape of If-Match) the schema states (registry/api/schema.py).
CROSS_RECORD_REFUSALS = [
    # A version (If-Match, or `version` in a bulk record) that is not the record's current one: state.
    (412, "version", r"was changed since version|names a version, but there is no record with this ID at a site you see"),
    (412, "", r"records? changed since the versions given"),
    # The cursor is opaque: only a `next` link the API sent is one.
    (400, "cursor", r"is not a cursor this API sent"),
    # Which sites exist, which the user sees or may change, and how many: stored memberships.
    (400, "site", r"is not a site you see|is not a site whose records you may change"),
    (400, "record_id", r"is a new record, but no site was chosen for new records"),
    # The URL names the record; the body may repeat it but not change it, nor move the record's site.
    (400, "record_id", r"cannot be changed through the API"),
    (400, "site", r"cannot be changed: a record never moves to another site"),
    # A measurement names its assessment by date and its lesion by identifier: other stored instances.
    (400, "lm_date", r"no tumor assessment of this patient is dated"),
    (400, "lm_lesion", r"no lesion of this patient is identified as"),
    (400, "var_bx_date", r"no biopsy of this patient is dated"),
    # One instance per date or identifier per patient: duplicates of stored instances.
    (400, None, r"^another [a-z ]+ of this patient \(instance \d+\) (is dated|has )"),
    # ... and within one bulk request: an instance number given twice (JSON Schema's uniqueItems compares
    # whole items, not one key of them).
    (400, "redcap_repeat_instance", r"appears on more than one row"),
    # SAS transport is for the ADaM datasets only: a format valid for some datasets, refused for the one the
    # path names (a rule across a path and a query parameter).
    (400, "format", r"^xpt \(SAS transport, ADaM\) is offered for .* only, not for "),
    # Rules across the fields of one instance (the model's clean(): dates in order, a detail only with
    # its answer, a drug of its line's type ...), which JSON Schema could only state as if/then trees.
    # They are written as sentences; the codecs' refusals of one value are fragments ("must be ...").
    (400, None, r"^(?!Ensure this value|This field)[A-Z].*\.$"),
    # A required field that takes a missing-data code holds a value or a code (issue 12 §4): the schema lets
    # the field be null or absent (with its code in `<field>_missing`) and says so in its description;
    # "one of two fields" is a rule across the values of one request, which JSON Schema could state only as
    # anyOf trees per operation.
    *((400, name, r"^is required( but is blank|, and the request does not give it)$")
      for name in (field.name for model in apps.get_app_config("registry").get_models()
                   for field in model._meta.concrete_fields
                   if getattr(field, "takes_missing_code", False) and not field.blank)),
]
# REDCap flat rows (POST /records/flat/): what a cell may hold depends on its column and on the row's
# instrument (redcap_repeat_instrument); the data dictionary (/redcap/api/ metadata) states it, the
# schema states the columns. A CSV body is text that JSON Schema cannot look inside beyond its header.
FLAT_UPSERT = "/api/v1/records/flat/"
# What the schema states about them is still checked: its columns, the record ID, a body at all.
FLAT_ROW_REFUSALS = [(400, None, r"^(?!is not a column of this project's flat export|is blank; every row needs the "
                                 r"record ID|The file has no record_id column|The request body is empty)")]
REFUSED = (400, 406, 412, 413, 415, 428)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.hook("flatmap_path_parameters")
def known_records(context, path_parameters):
    """One time in two, the record is one that exists (else nearly every request would be a 404)."""
    if not path_parameters or "record_id" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "record_id": RECORD_ID, "instance": 1}]).map(
        lambda parameters: {name: value for name, value in parameters.items() if name in path_parameters}
    )


@pytest.fixture
def connection_kept_open():
    """Django closes the database connection at the end of each request; that would end the test's
    transaction (on PostgreSQL) after the first one. Django's own test client keeps it open the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def administrator_headers(db, site_a, settings, tmp_path, connection_kept_open):
    factories.make_full_patient(site_a, RECORD_ID)
    settings.DEIDENTIFICATION_KEY = "k" * 40
    # Dataset jobs write their zips here, not under the checkout's var/: the fuzz runs on both
    # databases at once (scripts/test), and their jobs' numbers, so their file names, coincide.
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api": "100000/minute", "api_bulk": "100000/minute"}}
    client = token_client(factories.make_user("fuzzer", superuser=True))
    return {"Authorization": f"Token {client.secret}"}


def _refused_for_cross_record_rules_only(response, allowed) -> bool:
    """Every problem of a refusal is one of `allowed`."""
    try:
        body = json.loads(response.text)
    except ValueError:
        return False
    problems = body.get("errors") or [{"field": "", "reason": body.get("detail", "")}]
    return all(
        any(status == response.status_code and (field is None or field == problem["field"])
            and re.search(pattern, problem["reason"]) for status, field, pattern in allowed)
        for problem in problems
    )


def positive_data_accepted_but_for_cross_record_rules(ctx, response, case):
    """schemathesis' positive_data_acceptance, except for the refusals the schema cannot state."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except AssertionError:
        allowed = CROSS_RECORD_REFUSALS + (FLAT_ROW_REFUSALS if case.operation.path == FLAT_UPSERT else [])
        if response.status_code in REFUSED and _refused_for_cross_record_rules_only(response, allowed):
            return None
        raise


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_server_error_an_answer_outside_the_schema_or_a_needless_refusal(
    case, administrator_headers,
):
    case.call_and_validate(
        headers=administrator_headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
                response_schema_conformance, positive_data_accepted_but_for_cross_record_rules],
    )
