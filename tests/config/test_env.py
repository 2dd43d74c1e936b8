"""Settings read from the environment fail loudly, naming the variable (CONVENTIONS.md §8)."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")


@pytest.mark.parametrize("value", ["1", "true", "Yes", " on "])
def test_env_bool_reads_true_spellings(monkeypatch, value):
    monkeypatch.setenv("REGISTRY_FLAG", value)

    assert env_bool("REGISTRY_FLAG", False) is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_env_bool_reads_false_spellings(monkeypatch, value):
    monkeypatch.setenv("REGISTRY_FLAG", value)

    assert env_bool("REGISTRY_FLAG", True) is False


def test_env_bool_without_the_variable_is_the_default(monkeypatch):
    monkeypatch.delenv("REGISTRY_FLAG", raising=False)

    assert env_bool("REGISTRY_FLAG", True) is True


def test_malformed_boolean_names_the_variable_and_the_value(monkeypatch):
    monkeypatch.setenv("REGISTRY_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match=r"REGISTRY_FLAG .*'maybe'"):
        env_bool("REGISTRY_FLAG", False)


def test_env_int_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv("REGISTRY_NUMBER", "60")

    assert env_int("REGISTRY_NUMBER", 0) == 60


def test_malformed_integer_names_the_variable_and_the_value(monkeypatch):
    monkeypatch.setenv("REGISTRY_NUMBER", "ten")

    with pytest.raises(ImproperlyConfigured, match=r"REGISTRY_NUMBER must be a whole number; got 'ten'"):
        env_int("REGISTRY_NUMBER", 0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("REGISTRY_HOSTS", " registry.example.org, ,localhost ")

    assert env_list("REGISTRY_HOSTS", []) == ["registry.example.org", "localhost"]


def test_value_outside_the_choices_names_the_variable(monkeypatch):
    monkeypatch.setenv("REGISTRY_LEVEL", "LOUD")

    with pytest.raises(ImproperlyConfigured, match=r"REGISTRY_LEVEL must be one of DEBUG, INFO; got 'LOUD'"):
        env_choice("REGISTRY_LEVEL", "INFO", ("DEBUG", "INFO"))
