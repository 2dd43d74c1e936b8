"""The idle-session and second-factor settings are read at start-up and refuse malformed values,
naming the variable (tests/config/conftest.py reads a settings module afresh with given variables)."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from registry.admin.second_factor import SecondFactorMiddleware

# Once, on SQLite: settings read in a fresh process, before any database is used.
pytestmark = pytest.mark.one_database("sqlite")

LOCAL = "config.settings.local"


def test_local_settings_end_idle_sessions_after_30_minutes_and_ask_nobody_for_a_second_factor(read_settings):
    local = read_settings(LOCAL)

    assert (local["SESSION_COOKIE_AGE"], local["SESSION_ENGINE"]) == (1800, "registry.sessions")
    assert local["REQUIRE_SECOND_FACTOR_ROLES"] == []


def test_the_idle_time_and_the_second_factor_roles_come_from_the_environment(read_settings):
    local = read_settings(LOCAL, REGISTRY_SESSION_IDLE_MINUTES="45",
                          REGISTRY_REQUIRE_SECOND_FACTOR_ROLES="administrator, coordinator")

    assert local["SESSION_COOKIE_AGE"] == 2700
    assert local["REQUIRE_SECOND_FACTOR_ROLES"] == ["administrator", "coordinator"]


def test_an_idle_time_that_is_not_a_whole_number_of_minutes_stops_start_up(read_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        read_settings(LOCAL, REGISTRY_SESSION_IDLE_MINUTES="half")

    assert str(refused.value) == "REGISTRY_SESSION_IDLE_MINUTES must be a whole number; got 'half'"


def test_an_idle_time_of_zero_minutes_stops_start_up(read_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        read_settings(LOCAL, REGISTRY_SESSION_IDLE_MINUTES="0")

    assert str(refused.value).startswith("REGISTRY_SESSION_IDLE_MINUTES must be 1 or more")


def test_a_misspelt_second_factor_role_stops_the_web_server_from_starting(settings):
    settings.REQUIRE_SECOND_FACTOR_ROLES = ["administrator", "adminstrator"]

    with pytest.raises(ImproperlyConfigured) as refused:
        SecondFactorMiddleware(lambda request: None)  # built once, when the server starts

    assert str(refused.value) == (
        "REGISTRY_REQUIRE_SECOND_FACTOR_ROLES names unknown roles adminstrator; "
        "the roles are administrator, coordinator, data_manager, investigator, viewer"
    )


def test_a_negative_number_of_trusted_proxies_stops_start_up(read_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        read_settings(LOCAL, REGISTRY_TRUSTED_PROXY_COUNT="-1")

    assert str(refused.value) == "REGISTRY_TRUSTED_PROXY_COUNT must be 0 or more; got -1"
