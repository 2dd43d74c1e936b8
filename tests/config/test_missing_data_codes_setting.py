"""REGISTRY_MISSING_DATA_CODES is checked at start-up (registry/records/missing_codes.py)."""
import pytest
from django.core.exceptions import ImproperlyConfigured

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")


def test_a_malformed_code_list_in_the_environment_stops_start_up(read_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        read_settings("config.settings.local", REGISTRY_MISSING_DATA_CODES="unknown=Unknown")

    assert "REGISTRY_MISSING_DATA_CODES" in str(refused.value)


def test_a_code_list_in_the_environment_is_the_setting(read_settings):
    names = read_settings("config.settings.local", REGISTRY_MISSING_DATA_CODES="UNK=Unknown,ND=Not done")

    assert names["MISSING_DATA_CODES"] == {"UNK": "Unknown", "ND": "Not done"}
