"""The address a login attempt comes from, for the lockout (django-axes, AXES_CLIENT_IP_CALLABLE).

Behind reverse proxies every connection comes from the nearest proxy; each proxy appends the address
it saw to X-Forwarded-For. With REGISTRY_TRUSTED_PROXY_COUNT = N (the proxies in front of the
registry), the client's address is the N-th entry from the right: the one the outermost proxy saw.
Entries further left were written by the client and are ignored, so a client cannot dodge its lock
by sending an X-Forwarded-For of its own. With 0 (the default) the connection's own address counts.
"""
from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies == 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:  # not through every proxy: the connection's address is all we know
        return remote
    return forwarded[-proxies]
