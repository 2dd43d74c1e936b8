"""The second factor's writes: a user's authenticator app (django-otp TOTP device) is set up, proved
with a first code, and reset by an administrator when the phone is lost.

    device = totp_device_for_setup(user=...)          # the unconfirmed device whose key the user scans
    device = totp_device_verify(user=..., token="123456")  # the device that accepted it, or None
    second_factor_reset(user=...)                    # the user sets up a new app at their next login
"""
from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.selectors.second_factor import confirmed_totp_device

DEVICE_NAME = "authenticator app"


@transaction.atomic
def totp_device_for_setup(*, user) -> TOTPDevice:
    """The device (with a new random key) a user without a confirmed one scans into their app; the
    same one on each visit until it is confirmed, so that a reload does not change the key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice(user=user, name=DEVICE_NAME, confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def totp_device_verify(*, user, token: str) -> TOTPDevice | None:
    """Checks `token` against the user's confirmed device, else against the one being set up (which
    this confirms). None when the token is wrong, already used, or tried too soon after a wrong one
    (django-otp doubles the wait after each failure)."""
    device = confirmed_totp_device(user)
    if device is None:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    else:
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device is None or not device.verify_token(token.strip()):
        return None
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One app per user: any other device left over from earlier setups goes.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device


@transaction.atomic
def second_factor_reset(*, user) -> int:
    """Deletes the user's devices; returns how many. Their sessions verified with the old device stop
    being verified at their next request, and their next login asks them to set up a new app."""
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted
