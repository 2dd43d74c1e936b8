"""The workspace's login is a door like the admin's: the same lockout (django-axes), the same second
factor for the roles that need one, the same idle-session end; a user needs no admin access (is_staff)
to use the workspace or to set up their second factor."""
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import Role
from tests import factories

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-only"  # tests/factories.py
SECOND_FACTOR = "/admin/second-factor/"


@pytest.fixture
def coordinator(site_a):
    user = factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])
    user.is_staff = False  # a workspace user only
    user.save(update_fields=["is_staff"])
    return user


def log_in(client, password, path=LOGIN):
    return client.post(path, {"username": "coordinator_a", "password": password}, REMOTE_ADDR="203.0.113.7")


def test_a_coordinator_without_admin_access_logs_in_to_the_workspace_and_lands_on_the_worklist(client, coordinator):
    response = log_in(client, PASSWORD)

    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_answered_on_the_login_page_without_saying_which_part_was_wrong(client, coordinator):
    response = log_in(client, "wrong password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Please enter a correct username and password" in response.content.decode()


def test_failures_at_the_workspace_and_at_the_admin_add_up_to_one_lockout(client, coordinator, settings):
    settings.AXES_ENABLED = True  # as everywhere but under the test settings
    statuses = [log_in(client, "wrong", path).status_code for path in (LOGIN, ADMIN_LOGIN, LOGIN, ADMIN_LOGIN)]
    fifth = log_in(client, "wrong")
    right_password = log_in(client, PASSWORD)

    assert statuses == [200, 200, 200, 200]
    assert (fifth.status_code, right_password.status_code) == (429, 429)
    assert "_auth_user_id" not in client.session


def test_a_role_that_needs_a_second_factor_enters_it_before_any_workspace_page(client, coordinator, settings):
    settings.REQUIRE_SECOND_FACTOR_ROLES = ["coordinator"]
    log_in(client, PASSWORD)

    refused = client.get("/records/")
    client.get(SECOND_FACTOR)  # sets up the authenticator app's key (no admin access needed)
    device = TOTPDevice.objects.get(user=coordinator)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    verified = client.post(SECOND_FACTOR, {"otp_token": code, "next": "/records/"})

    assert refused.status_code == 302 and refused["Location"].startswith(SECOND_FACTOR)
    assert (verified.status_code, verified["Location"]) == (302, "/records/")
    assert client.get("/records/").status_code == 200


def test_an_idle_workspace_session_ends_and_sends_the_user_to_the_workspace_login(client, coordinator):
    client.force_login(coordinator)
    later = timezone.now() + timedelta(minutes=30, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get("/records/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/records/"


def test_logging_out_ends_the_session(client, coordinator):
    client.force_login(coordinator)

    response = client.post("/logout/")

    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert client.get("/")["Location"] == "/login/?next=/"
