"""API tokens: created (shown once), checked on every request, revoked. The one door for the admin,
the create_token command and both APIs' authentication.

    token, secret = api_token_create(user=..., name="nightly EHR sync", created_by=...)
    api_token_authenticate(secret)      # the active token (its user, role and sites) or None
    api_token_revoke(token=..., by=...)
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from registry.models.api_tokens import ApiToken
from registry.selectors.access import access_for

TOKEN_PATTERN = re.compile(r"[0-9A-Fa-f]{32}")  # REDCap's format: 32 hexadecimal characters
# last_used_at is written at most once a minute per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """SHA-256 of the token, upper-cased first (REDCap prints tokens in upper case; either is accepted)."""
    return hashlib.sha256(secret.strip().upper().encode("ascii")).hexdigest()


def may_manage_tokens_of(actor, owner) -> bool:
    """Administrators manage everyone's tokens; anyone with a registry role their own."""
    access = access_for(actor)
    if access.role is None:
        return False
    return actor.pk == owner.pk or access.role == "administrator"


@transaction.atomic
def api_token_create(*, user, name: str, created_by=None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it and its secret, which is not stored and never shown again.

    `created_by` None: the system (the command line). Raises PermissionDenied when `created_by`
    may not create tokens for `user`, ValidationError on a blank name.
    """
    if created_by is not None and not may_manage_tokens_of(created_by, user):
        raise PermissionDenied("Only administrators create tokens for other users.")
    secret = secrets.token_hex(16).upper()
    token = ApiToken(user=user, name=name.strip(), key_hash=token_hash(secret), prefix=secret[:8],
                     created_by=created_by)
    token.full_clean()
    token.save()
    return token, secret


def api_token_authenticate(secret: str | None) -> ApiToken | None:
    """The active token with this secret, whose user is active; None otherwise (one query, and one
    UPDATE of last_used_at at most once a minute)."""
    if not secret or not TOKEN_PATTERN.fullmatch(secret.strip()):
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=token_hash(secret), revoked_at__isnull=True).first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> ApiToken:
    """Revokes the token at once (requests with it fail from now on); revoking twice changes nothing."""
    if by is not None and not may_manage_tokens_of(by, token.user):
        raise PermissionDenied("Only administrators revoke other users' tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
