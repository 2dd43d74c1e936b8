"""The OpenAPI 3 schema at /api/schema/: valid, and every operation names its error answers."""
import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf="registry.api.schema_urls").get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3.0 specification
    assert schema["openapi"].startswith("3.")


def test_every_operation_documents_its_4xx_answers_in_the_one_error_shape(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for code in ("401", "403", "429"):
            assert code in responses, (method, path, code)
            assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if method in ("post", "put", "patch"):
            assert {"400", "413", "415", "409", "412"} <= set(responses), (method, path)
        if method in ("put", "patch", "delete") and "{record_id}" in path:
            assert "428" in responses, (method, path)


def test_every_instrument_has_its_list_and_instance_paths_with_the_dictionarys_fields(schema):
    for form in ("treatment_line", "local_therapy", "tumor_assessment", "lesion", "lesion_measurement", "biopsy",
                 "ngs_variant"):
        assert f"/api/v1/patients/{{record_id}}/{form}/" in schema["paths"]
        assert f"/api/v1/patients/{{record_id}}/{form}/{{instance}}/" in schema["paths"]
    line = schema["components"]["schemas"]["TreatmentLine"]["properties"]
    # null: a missing-data code in line_type_missing stands for the value (issue 12 §4 follow-up).
    assert line["line_type"]["enum"] == [1, 2, 3, 4, 99, None]
    assert line["line_start"]["format"] == "date"


def test_the_schema_is_served_without_a_token_as_json(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "ALK+ NSCLC registry API"
