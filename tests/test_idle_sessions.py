"""Idle sessions (registry/sessions.py): a login session ends REGISTRY_SESSION_IDLE_MINUTES (30 here)
after its last request; each request pushes the end back, writing the session row at most about
once a minute."""
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from registry.models import Role
from tests import factories

PAGE = "/admin/registry/patient/"


@pytest.fixture
def logged_in(client, site_a):
    """A coordinator's client just logged in, and the time of the login."""
    client.force_login(factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a]))
    return client, timezone.now()


def get_at(client, moment, path=PAGE):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return client.get(path)


def test_a_session_idle_for_longer_than_30_minutes_is_logged_out(logged_in):
    client, login_time = logged_in

    response = get_at(client, login_time + timedelta(minutes=30, seconds=1))

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={PAGE}"


def test_a_session_in_use_stays_open_past_30_minutes_after_login(logged_in):
    client, login_time = logged_in

    after_20 = get_at(client, login_time + timedelta(minutes=20))
    after_45 = get_at(client, login_time + timedelta(minutes=45))
    after_70 = get_at(client, login_time + timedelta(minutes=70))
    idle_31_after_that = get_at(client, login_time + timedelta(minutes=101))

    assert [after_20.status_code, after_45.status_code, after_70.status_code] == [200, 200, 200]
    assert idle_31_after_that.status_code == 302


def test_a_request_within_a_minute_of_the_last_write_leaves_the_session_row_alone(logged_in):
    client, login_time = logged_in
    expiry_at_login = Session.objects.get().expire_date

    get_at(client, login_time + timedelta(seconds=50))
    expiry_after_50_seconds = Session.objects.get().expire_date
    get_at(client, login_time + timedelta(minutes=2))
    expiry_after_2_minutes = Session.objects.get().expire_date

    assert expiry_after_50_seconds == expiry_at_login
    assert expiry_after_2_minutes == login_time + timedelta(minutes=32)
