"""The second factor in the browser: users whose role requires it (registry/selectors/second_factor.py)
set up an authenticator app and enter one of its codes after their password, before any other page.

SecondFactorMiddleware sends such a user, until their session is verified, to `second_factor_page`:
with no confirmed app it shows the app's key as an otpauth:// URI and as a QR code (segno, drawn
on the server as SVG: no image service, no JavaScript) and takes a first code to confirm it; with one,
it asks for a code. The API doors authenticate each request with a token, not with this session, and
are left alone.
"""
from __future__ import annotations

from urllib.parse import quote

import segno
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login

from registry.models import Role
from registry.selectors.second_factor import confirmed_totp_device, second_factor_required
from registry.services.second_factor import totp_device_for_setup, totp_device_verify

# Token doors (each request carries its own credentials) and what a user must reach to verify or leave.
UNGUARDED_PREFIXES = ("/api/", "/redcap/api/")


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: a logged-in user of a required role whose session has not been
    verified with a one-time password is redirected to the second-factor page, whatever they ask for."""

    def __init__(self, get_response):
        unknown = sorted(set(settings.REQUIRE_SECOND_FACTOR_ROLES) - set(Role.values))
        if unknown:  # checked when the server starts: a misspelt role would silently require nobody
            raise ImproperlyConfigured(
                f"REGISTRY_REQUIRE_SECOND_FACTOR_ROLES names unknown roles {', '.join(unknown)}; "
                f"the roles are {', '.join(sorted(Role.values))}"
            )
        self.get_response = get_response

    def __call__(self, request):
        if settings.REQUIRE_SECOND_FACTOR_ROLES and self._must_verify(request):
            page = reverse("second_factor")
            return HttpResponseRedirect(f"{page}?next={quote(request.get_full_path(), safe='/')}")
        return self.get_response(request)

    @staticmethod
    def _must_verify(request) -> bool:
        path = request.path_info
        if path.startswith(UNGUARDED_PREFIXES) or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return False
        if path in (reverse("second_factor"), reverse("admin:logout"), reverse("workspace:logout")):
            return False
        user = request.user
        return user.is_authenticated and not user.is_verified() and second_factor_required(user)


class OneTimePasswordForm(forms.Form):
    otp_token = forms.RegexField(
        label="Code from your authenticator app", regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


@login_required
def second_factor_page(request):
    """GET: the form (and the key to scan when the app is not set up yet); POST: check the code.

    For every logged-in user, staff or not: workspace users (coordinators need no admin access) reach it
    from the workspace's login, administrators from the admin's."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("admin:index") if request.user.is_staff else reverse("workspace:worklist")
    if request.user.is_verified():
        return HttpResponseRedirect(next_url)
    form = OneTimePasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            device = totp_device_verify(user=request.user, token=form.cleaned_data["otp_token"])
            if device is not None:
                request.session.cycle_key()  # a new session key for the session's new privileges
                otp_login(request, device)
                return HttpResponseRedirect(next_url)
            form.add_error("otp_token", "This code is not valid: it is wrong, already used, or entered too soon "
                                        "after a wrong one. Wait for the next code and try again.")
        status = 400
    setup = None
    if confirmed_totp_device(request.user) is None:
        device = totp_device_for_setup(user=request.user)
        setup = {
            "uri": device.config_url,
            # segno writes the SVG itself from the URI: nothing in it comes from the request.
            "qr_svg": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4)),
        }
    context = {
        "title": "Second factor", "form": form, "setup": setup, "next": next_url,
        "required": second_factor_required(request.user),
        "site_header": "ALK+ NSCLC registry", "site_title": "ALK+ NSCLC registry", "has_permission": False,
    }
    return render(request, "admin/registry/second_factor.html", context, status=status)
