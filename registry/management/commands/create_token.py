"""Create an API token for a user and print it (once: only its hash is stored).

    python manage.py create_token USERNAME [--name "what it is for"]

The token acts with the user's role and sites, on the REST API (`Authorization: Token <token>`)
and on the REDCap-compatible API (`token=<token>`).
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created with manage.py create_token", help="What the token is for")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}")
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active; its tokens would not work")
        try:
            token, secret = api_token_create(user=user, name=name, created_by=None)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(secret)
        self.stderr.write(f"Token {token.prefix}… for {username} ({name}). It is shown only now: store it safely.")
