"""The OpenAPI schema, fuzzed: schemathesis sends requests generated from /api/schema/ to every
operation and checks that no answer is a server error or breaks the schema (status code, content
type, headers, body).

Bounded so that CI stays fast: at most MAX_EXAMPLES generated requests per operation (about 60
operations), no shrinking of failures (a failing example is printed as it was found; shrink it by
hand with `--hypothesis-seed`), no deadline. Requests go through the WSGI app inside the test's
transaction, as an administrator (who may call every operation), with a patient of every
instrument whose record ID the generated paths use one time in two.
"""
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from tests import factories

from .conftest import token_client

MAX_EXAMPLES = 10
RECORD_ID = "P-A"

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
def administrator_headers(db, site_a, settings, connection_kept_open):
    factories.make_full_patient(site_a, RECORD_ID)
    settings.DEIDENTIFICATION_KEY = "k" * 40
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api": "100000/minute", "api_bulk": "100000/minute"}}
    client = token_client(factories.make_user("fuzzer", superuser=True))
    return {"Authorization": f"Token {client.secret}"}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error_or_an_answer_outside_the_schema(case, administrator_headers):
    case.call_and_validate(
        headers=administrator_headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
                response_schema_conformance],
    )
