"""Login lockout (django-axes, config/settings/base.py): 5 failed logins for one username from one
address lock that username at that address for 30 minutes, right password or not."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from registry.models import Role
from tests import factories

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-only"  # tests/factories.py
HOSPITAL = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True  # as everywhere but under the test settings (config/settings/test.py)


@pytest.fixture
def coordinator(site_a):
    return factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])


def log_in(client, username, password, address=HOSPITAL):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def fail_five_times(client, username="coordinator_a", address=HOSPITAL):
    return [log_in(client, username, "wrong password", address).status_code for _ in range(5)]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def move_attempts_back(minutes: int) -> None:
    """As if the failures had happened `minutes` earlier (axes reads its clock from the attempt rows)."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save(update_fields=["attempt_time"])


def test_four_failures_are_answered_as_wrong_passwords_and_the_right_password_still_logs_in(client, coordinator):
    statuses = [log_in(client, "coordinator_a", "wrong password").status_code for _ in range(4)]
    right = log_in(client, "coordinator_a", PASSWORD)

    assert statuses == [200, 200, 200, 200]
    assert (right.status_code, right["Location"]) == (302, "/admin/")
    assert logged_in(client)
    assert AccessAttempt.objects.count() == 0  # a successful login forgets the failures


def test_the_fifth_failure_locks_and_the_sixth_attempt_with_the_right_password_is_refused(client, coordinator):
    statuses = fail_five_times(client)
    sixth = log_in(client, "coordinator_a", PASSWORD)

    assert statuses == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert "Account locked: too many login attempts" in sixth.content.decode()
    assert not logged_in(client)
    assert list(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")) == [
        ("coordinator_a", HOSPITAL, 5),
    ]
    assert "wrong password" not in AccessAttempt.objects.get().post_data  # passwords are never logged


def test_another_username_from_the_same_address_and_the_same_username_from_elsewhere_are_not_locked(
    client, coordinator, site_a,
):
    factories.make_user("coordinator_b", role=Role.COORDINATOR, sites=[site_a])
    fail_five_times(client)

    colleague = log_in(client, "coordinator_b", PASSWORD)
    client.logout()
    from_elsewhere = log_in(client, "coordinator_a", PASSWORD, address=ELSEWHERE)

    assert colleague.status_code == 302
    assert from_elsewhere.status_code == 302
    assert logged_in(client)


def test_the_lock_ends_30_minutes_after_the_fifth_failure(client, coordinator):
    fail_five_times(client)
    move_attempts_back(29)
    still_locked = log_in(client, "coordinator_a", PASSWORD)
    move_attempts_back(2)

    unlocked = log_in(client, "coordinator_a", PASSWORD)

    assert still_locked.status_code == 429
    assert (unlocked.status_code, unlocked["Location"]) == (302, "/admin/")
    assert logged_in(client)


def test_attempts_while_locked_do_not_make_the_lock_longer(client, coordinator):
    fail_five_times(client)
    move_attempts_back(20)
    for _ in range(3):
        log_in(client, "coordinator_a", "another guess")
    move_attempts_back(11)

    unlocked = log_in(client, "coordinator_a", PASSWORD)

    assert unlocked.status_code == 302


def test_failures_more_than_30_minutes_apart_do_not_add_up(client, coordinator):
    for _ in range(4):
        log_in(client, "coordinator_a", "wrong password")
    move_attempts_back(31)

    fifth = log_in(client, "coordinator_a", "wrong password")
    right = log_in(client, "coordinator_a", PASSWORD)

    assert fifth.status_code == 200
    assert right.status_code == 302


def test_an_administrator_unlocks_a_username_with_the_axes_reset_username_command(client, coordinator):
    fail_five_times(client)

    call_command("axes_reset_username", "coordinator_a")
    unlocked = log_in(client, "coordinator_a", PASSWORD)

    assert AccessAttempt.objects.filter(username="coordinator_a").count() == 0
    assert unlocked.status_code == 302


PROXY = "10.0.0.2"


def log_in_through_proxy(client, password, forwarded_for):
    return client.post(LOGIN, {"username": "coordinator_a", "password": password, "next": "/admin/"},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_trusted_proxy_the_lock_is_per_client_address_and_a_forged_forwarded_for_does_not_dodge_it(
    settings, client, coordinator,
):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [log_in_through_proxy(client, "wrong password", HOSPITAL).status_code for _ in range(5)]

    forged = log_in_through_proxy(client, PASSWORD, f"192.0.2.99, {HOSPITAL}")  # the client wrote the first entry
    other_client = log_in_through_proxy(client, PASSWORD, ELSEWHERE)

    assert statuses == [200, 200, 200, 200, 429]
    assert forged.status_code == 429
    assert other_client.status_code == 302
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [HOSPITAL]


def test_without_trusted_proxies_a_client_s_forwarded_for_is_ignored(client, coordinator):
    statuses = [log_in_through_proxy(client, "wrong password", f"192.0.2.{n}").status_code for n in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PROXY]


def test_the_test_client_s_login_works_under_the_test_settings(settings, client, coordinator):
    settings.AXES_ENABLED = False  # config/settings/test.py

    assert client.login(username="coordinator_a", password=PASSWORD) is True
