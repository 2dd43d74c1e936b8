"""API tokens: how sites' programs (the REST API and the REDCap-compatible API) act as a user.

A token is 32 hexadecimal characters, the format REDCap's own tokens have and its clients (PyCap,
REDCapR) check. Only its SHA-256 hash is stored: the token itself is shown once, when it is
created, and cannot be recovered. A token acts with its user's role and sites (the one access rule
of registry/selectors/access.py), never with more.
"""
from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'nightly sync from the EHR'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token, hex.")
    prefix = models.CharField(max_length=8, editable=False, help_text="The token's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.prefix}… {self.name} ({self.user}, {state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
