"""Idle sessions: a login session ends SESSION_COOKIE_AGE seconds (REGISTRY_SESSION_IDLE_MINUTES)
after its last request, each request pushing the end back (a sliding expiry).

Django's way, SESSION_SAVE_EVERY_REQUEST, writes the session row on every page (three statements: a
savepoint, the UPDATE, its release). Here a request writes it only when that moves its end by at
least REFRESH_RESOLUTION, about once a minute for an active user: the session then ends between
`idle - 1 minute` and `idle` after the last request, and pages cost no write in between.

SESSION_ENGINE is this module (Django's database sessions, remembering the stored end when a
session is read); IdleSessionMiddleware, inside SessionMiddleware, marks a session for saving when its
end is due to move.
"""
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone


def refresh_resolution() -> timedelta:
    """One minute, or a thirtieth of the idle time when that is shorter (never under a second)."""
    return timedelta(seconds=max(1, min(60, settings.SESSION_COOKIE_AGE // 30)))


class SessionStore(db.SessionStore):
    stored_expiry = None  # the session row's expire_date when it was read; None: not read, or new

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        self.stored_expiry = session.expire_date if session is not None else None
        return session


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        stored_expiry = getattr(session, "stored_expiry", None)
        if stored_expiry is not None and not session.modified:
            renewed_expiry = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
            if renewed_expiry - stored_expiry >= refresh_resolution():
                session.modified = True  # SessionMiddleware saves it, with the new end, and resends the cookie
        return response
