"""API tokens on every request: `Authorization: Token <secret>` (or `Bearer <secret>`).

The token acts as its user, with the user's role and sites (registry/selectors/access.py), never
with more; `request.auth` is the ApiToken, whose prefix goes into the audit trail of every change
made with it. A missing header is anonymous (answered 401 by the permissions); a malformed, unknown
or revoked token is 401 at once.
"""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from registry.services.api_tokens import api_token_authenticate

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode("latin-1") not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: give 'Token <your token>' (or 'Bearer <your token>')."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = api_token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token: unknown, revoked, or its user is inactive.")
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to a request without a token.
        return self.keyword


def door_of(request) -> str:
    """The audit trail's change reason for a change made with this request's token (never the secret)."""
    token = request.auth
    return f"api: token {token.prefix}" if token is not None else "api"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <32 hexadecimal characters>` (or `Bearer <...>`): a token created in the admin "
                           "or with `python manage.py create_token USER`.",
        }
