"""API tokens: 32 hexadecimal characters shown once, stored as a hash, revocable, acting as their user."""
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from registry.models import ApiToken, Role
from registry.services.api_tokens import (
    api_token_authenticate, api_token_create, api_token_revoke, token_hash,
)
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_new_token_is_32_hex_characters_and_only_its_hash_is_stored(coordinator_a):
    token, secret = api_token_create(user=coordinator_a, name="EHR sync")

    assert re.fullmatch(r"[0-9A-F]{32}", secret)  # REDCap's token format, which PyCap checks
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == token_hash(secret) != secret and secret not in stored.key_hash
    assert stored.prefix == secret[:8]
    assert not ApiToken.objects.filter(key_hash=secret).exists()


def test_a_token_authenticates_as_its_user_in_either_case_and_notes_when_it_was_used(coordinator_a):
    token, secret = api_token_create(user=coordinator_a, name="EHR sync")

    found = api_token_authenticate(secret.lower())

    assert found == token and found.user == coordinator_a
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(coordinator_a, django_assert_num_queries):
    _, secret = api_token_create(user=coordinator_a, name="EHR sync")
    api_token_authenticate(secret)

    with django_assert_num_queries(1):  # the lookup only: used less than a minute ago
        api_token_authenticate(secret)
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(2):  # the lookup and the UPDATE of last_used_at
        api_token_authenticate(secret)


@pytest.mark.parametrize("secret", ["", "not-a-token", "0" * 31, "G" * 32, "0" * 33])
def test_malformed_or_unknown_secrets_authenticate_nobody(coordinator_a, secret, django_assert_num_queries):
    api_token_create(user=coordinator_a, name="EHR sync")
    with django_assert_num_queries(0):  # refused before the database is asked
        assert api_token_authenticate(secret) is None
    assert api_token_authenticate("0" * 32) is None


def test_a_revoked_token_or_an_inactive_user_authenticates_nobody(coordinator_a, site_a):
    token, secret = api_token_create(user=coordinator_a, name="EHR sync")
    api_token_revoke(token=token)
    assert api_token_authenticate(secret) is None

    viewer = factories.make_user("viewer", role=Role.VIEWER, sites=[site_a])
    _, viewer_secret = api_token_create(user=viewer, name="read-only mirror")
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    assert api_token_authenticate(viewer_secret) is None


def test_only_administrators_create_or_revoke_tokens_for_others(coordinator_a, administrator, site_a):
    other = factories.make_user("coordinator_x", role=Role.COORDINATOR, sites=[site_a])

    with pytest.raises(PermissionDenied):
        api_token_create(user=other, name="not mine", created_by=coordinator_a)
    assert not ApiToken.objects.exists()
    token, _ = api_token_create(user=other, name="for them", created_by=administrator)
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=token, by=coordinator_a)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    api_token_revoke(token=token, by=administrator)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_token_needs_a_name(coordinator_a):
    with pytest.raises(ValidationError):
        api_token_create(user=coordinator_a, name="  ")
    assert not ApiToken.objects.exists()


def test_create_token_prints_the_secret_once(coordinator_a):
    stdout, stderr = io.StringIO(), io.StringIO()

    call_command("create_token", "coordinator_a", "--name", "nightly sync", stdout=stdout, stderr=stderr)

    secret = stdout.getvalue().strip()
    assert api_token_authenticate(secret).user == coordinator_a
    assert ApiToken.objects.get().name == "nightly sync"
    assert secret not in stderr.getvalue() and "shown only now" in stderr.getvalue()


def test_create_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_token", "ghost", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()


def test_the_admin_shows_a_new_token_once_and_lists_only_ones_own(client, coordinator_a, administrator):
    api_token_create(user=administrator, name="the administrator's")
    client.force_login(coordinator_a)

    response = client.post(reverse("admin:registry_apitoken_add"), {"name": "my script"}, follow=True)

    token = ApiToken.objects.get(name="my script")
    assert token.user == coordinator_a and token.created_by == coordinator_a
    shown = [str(message) for message in response.context["messages"]]
    secret = re.search(r"[0-9A-F]{32}", shown[0]).group()
    assert api_token_authenticate(secret) == token
    listing = client.get(reverse("admin:registry_apitoken_changelist")).content.decode()
    assert "my script" in listing and "the administrator&#x27;s" not in listing and "the administrator's" not in listing
    assert secret not in listing


def test_revoking_in_the_admin_stops_the_token(client, coordinator_a):
    token, secret = api_token_create(user=coordinator_a, name="my script")
    client.force_login(coordinator_a)

    client.post(reverse("admin:registry_apitoken_changelist"),
                {"action": "revoke_tokens", "_selected_action": [token.pk]})

    assert api_token_authenticate(secret) is None
