"""Who must enter a one-time password after their password, and with which device.

The roles are settings.REQUIRE_SECOND_FACTOR_ROLES (REGISTRY_REQUIRE_SECOND_FACTOR_ROLES), read
against the one access rule (registry/selectors/access.py), so a superuser counts as an
administrator. A role added later (e.g. a data manager) is required by naming it in that setting.
"""
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.selectors.access import access_for


def second_factor_required(user) -> bool:
    role = access_for(user).role
    return role is not None and role in settings.REQUIRE_SECOND_FACTOR_ROLES


def confirmed_totp_device(user) -> TOTPDevice | None:
    """The user's authenticator app, once they have proved it works by entering one of its codes."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
