"""Rate limits per API token (DRF throttling; the counts live in the cache: in-process in tests and
on one machine, Redis in production so that every web process shares them).

Scopes and their rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (config/settings/base.py): "api"
for every request, "api_bulk" for bulk upserts on top of it. Read at each request, so that a test's
settings override applies.
"""
from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def get_cache_key(self, request, view):
        token = request.auth
        if token is None:  # no token: refused by the permissions anyway, nothing to count
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"token-{token.pk}"}


class BulkRateThrottle(TokenRateThrottle):
    scope = "api_bulk"
