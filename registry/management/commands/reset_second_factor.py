"""Forget a user's authenticator app (lost or replaced phone): at their next login they set up a new one.

    python manage.py reset_second_factor USERNAME

The same as deleting the user's row under "TOTP devices" in the admin (superusers).
"""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.services.second_factor import second_factor_reset


class Command(BaseCommand):
    help = "Delete USERNAME's authenticator app; they set up a new one at their next login."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}")
        deleted = second_factor_reset(user=user)
        self.stdout.write(f"Deleted {deleted} second-factor device(s) of {username}.")
