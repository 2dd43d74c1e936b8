"""The admin pages of the login lockout (django-axes) and the second factor (django-otp), registered
again with the rules every registry admin page keeps.

Both libraries register their own admins, which Django's model permissions open to superusers only.
Re-registered here with `UnseenIsMissingMixin` and `NulParametersRefusedMixin`, an id of a row the user
may not see answers the same 404 as an id that does not exist, and a list parameter holding a NUL
character answers 400 instead of a database error. django-otp's pages that show a device's key
(`<id>/config/`, `<id>/qrcode/`) are left out: nobody reads another user's key; a lost app is reset
(`reset_second_factor`, or deleting the device here) and its owner sets up a new one.
"""
from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django_otp.plugins.otp_totp import admin as totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .mixins import NulParametersRefusedMixin, UnseenIsMissingMixin

KEY_PAGES = ("otp_totp_totpdevice_config", "otp_totp_totpdevice_qrcode")

for model in (AccessAttempt, AccessLog, AccessFailureLog, TOTPDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, axes_admin.AccessAttemptAdmin):
    pass


@admin.register(AccessLog)
class AccessLogAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, axes_admin.AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, axes_admin.AccessFailureLogAdmin):
    pass


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, totp_admin.TOTPDeviceAdmin):
    def get_urls(self):
        return [url for url in super().get_urls() if url.name not in KEY_PAGES]
