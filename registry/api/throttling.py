"""Rate limits per API user, shared by both APIs (DRF throttling; the counts live in the cache:
in-process in tests and on one machine, Redis in production so that every web process shares them;
config/settings/production.py refuses to start without a shared cache).

Scopes and their rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (config/settings/base.py): "api"
for every request, "api_bulk" for bulk requests on top of it. Read at each request, so that a test's
settings override applies.

One set of counters for both doors: the REST API's throttle classes and the REDCap API
(`token_throttle_wait`, called by registry/api/redcap/throttling.py) count in the same cache keys, so
a token throttled on one API is throttled on the other.

The counters are kept per user of the token, not per token: anyone with a role may create tokens
for themselves (registry/services/api_tokens.py), so a budget per token would be multiplied by
creating more tokens. Every token of one user therefore shares that user's budget.

The count is DRF's (read the request times, append, write back): two requests of one user landing at
the same instant may both be let through; a limit meant to stop runaway scripts tolerates that.
"""
import math
from types import SimpleNamespace

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
        return self.cache_format % {"scope": self.scope, "ident": f"user-{token.user_id}"}


class BulkRateThrottle(TokenRateThrottle):
    scope = "api_bulk"


def token_throttle_wait(token, *, bulk: bool) -> int | None:
    """Counts one request made with `token` outside DRF (the REDCap API) against the same counters as
    the REST API: the "api" rate always, the "api_bulk" rate too when `bulk`.

    None when the request may go on (and it has been counted); otherwise the whole seconds to wait
    before the next request is let through, as DRF's Retry-After (at least 1).
    """
    request = SimpleNamespace(auth=token)  # what the throttles read of a request
    throttles = [TokenRateThrottle(), BulkRateThrottle()] if bulk else [TokenRateThrottle()]
    waits = [throttle.wait() for throttle in throttles if not throttle.allow_request(request, None)]
    if not waits:
        return None
    return max(1, math.ceil(max(wait or 0 for wait in waits)))
