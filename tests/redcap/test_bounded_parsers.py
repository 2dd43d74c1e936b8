"""Bounded parsing at the REDCap API: JSON `data` nested too deep, malformed CSV `data`, and filterLogic
nested or long past its bounds each answer 400 with the reason, never a 500, and write nothing."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.records.filter_logic import FilterLogicError, parse_filter_logic
from tests.records.malformed_csv import MALFORMED_CSV, vitals
from tests.redcap.client import URL

TOO_DEEP = "[" * 65 + "]" * 65


def test_json_data_nested_65_levels_is_a_400_naming_the_byte(redcap, coordinator_token, alive_patients):
    answer = redcap(coordinator_token, "record", format="json", returnFormat="json", data=TOO_DEEP)

    assert answer.status == 400
    assert answer.json() == {
        "error": "The data parameter cannot be read: JSON nested deeper than 64 levels (at byte 65)",
    }
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def test_json_data_sent_as_a_multipart_file_nested_too_deep_is_a_400_too(client, coordinator_token, alive_patients):
    response = client.post(URL, {
        "token": coordinator_token, "content": "record", "format": "json", "returnFormat": "json",
        "data": SimpleUploadedFile("records.json", TOO_DEEP.encode(), content_type="application/json"),
    })

    assert response.status_code == 400
    assert response.json() == {
        "error": "The data parameter cannot be read: JSON nested deeper than 64 levels (at byte 65)",
    }
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


@pytest.mark.parametrize("kind", MALFORMED_CSV)
def test_malformed_csv_data_is_a_400_naming_the_row_and_writes_nothing(redcap, coordinator_token, alive_patients, kind):
    text, line, reason = MALFORMED_CSV[kind]

    answer = redcap(coordinator_token, "record", format="csv", returnFormat="json", data=text)

    assert answer.status == 400
    assert answer.json()["error"].splitlines() == [f'"","","","{reason.replace(chr(34), 2 * chr(34))} (row {line})"']
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


def test_malformed_csv_data_with_a_semicolon_delimiter_is_reported_too(redcap, coordinator_token, alive_patients):
    text = MALFORMED_CSV["a quote never closed"][0].replace(",", ";")

    answer = redcap(coordinator_token, "record", format="csv", csvDelimiter=";", returnFormat="json", data=text)

    assert answer.status == 400
    assert answer.json()["error"] == (
        '"","","","has a quote that is never closed: the value it opens on line 3 would take in every line '
        'after it (row 3)"'
    )
    assert vitals() == [("P-1", 1, None), ("P-2", 1, None)]


KINDS = {"sex": "number", "line_drug": "number"}


def test_filter_logic_nested_50_levels_is_read():
    logic = parse_filter_logic("(" * 50 + '[sex] = "2"' + ")" * 50, KINDS)

    assert logic.matches({"sex": "2"}.get) is True
    assert logic.matches({"sex": "1"}.get) is False


def test_filter_logic_nested_51_levels_is_refused_before_it_is_parsed():
    with pytest.raises(FilterLogicError) as refused:
        parse_filter_logic("(" * 51 + '[sex] = "2"' + ")" * 51, KINDS)

    assert str(refused.value) == "filterLogic nests parentheses deeper than 50 levels (at character 51)"


def test_filter_logic_nested_too_deep_is_refused_where_it_passes_the_bound_even_if_unreadable_later():
    logic = '[sex] = "1" and (' * 500  # 8,500 characters, never closed

    with pytest.raises(FilterLogicError) as refused:
        parse_filter_logic(logic, KINDS)

    assert str(refused.value) == "filterLogic nests parentheses deeper than 50 levels (at character 867)"


def test_a_long_flat_filter_logic_is_read_and_one_past_the_bound_is_refused():
    clause = '[sex] = "2" or '
    readable = clause * 600 + '[sex] = "1"'  # 9,011 characters

    assert parse_filter_logic(readable, KINDS).matches({"sex": "1"}.get) is True
    with pytest.raises(FilterLogicError) as refused:
        parse_filter_logic(clause * 700 + '[sex] = "1"', KINDS)  # 10,511 characters
    assert str(refused.value) == "filterLogic is longer than 10000 characters"


def test_the_export_answers_400_for_filter_logic_of_3000_parentheses(redcap, admin_token, alive_patients):
    answer = redcap(admin_token, "record", format="json", returnFormat="json",
                    filterLogic="(" * 3000 + '[sex] = "2"' + ")" * 3000)

    assert answer.status == 400
    assert answer.json() == {"error": "filterLogic nests parentheses deeper than 50 levels (at character 51)"}
