"""Demo data for trying the registry on one machine: two sites, three users and the demo cohort
(73 invented patients whose derivations reproduce the reference study; see `load_demo`).

Idempotent: sites, users, roles and memberships are created only when missing, and a demo
patient is imported only if no patient with its record ID exists yet (so corrections made in the
admin survive a re-run). The demo users get new random passwords each run, printed at the end,
unless --admin-password / --coordinator-password / --investigator-password are given.

For demos and local use only: it resets the passwords of the users named `admin`, `coordinator_a`
and `investigator`.
"""
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import Role
from registry.services.demo_cohort import DemoCohortError, demo_cohort_load
from registry.services.demo_setup import DemoPasswordTooWeak, demo_user_ensure
from registry.services.derivation import derivations_refresh

from .load_demo import ensure_demo_sites, report_demo_load

ADMIN_USERNAME = "admin"
COORDINATOR_USERNAME = "coordinator_a"
INVESTIGATOR_USERNAME = "investigator"


class Command(BaseCommand):
    help = "Create the demo sites, an administrator, a coordinator, an investigator and the demo cohort (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", help="Password for 'admin' (default: a new random one)")
        parser.add_argument("--coordinator-password", help="Password for 'coordinator_a' (default: a new random one)")
        parser.add_argument("--investigator-password", help="Password for 'investigator' (default: a new random one)")

    def handle(self, *args, admin_password=None, coordinator_password=None, investigator_password=None, **options):
        # All or nothing: a demo file that fails to import leaves no sites or users behind.
        try:
            with transaction.atomic():
                sites = ensure_demo_sites(self.stdout)
                wanted = [
                    (ADMIN_USERNAME, True, Role.ADMINISTRATOR, (), admin_password),
                    (COORDINATOR_USERNAME, False, Role.COORDINATOR, [sites["demo-a"]], coordinator_password),
                    (INVESTIGATOR_USERNAME, False, Role.INVESTIGATOR, (), investigator_password),
                ]
                passwords = {}
                for username, superuser, role, user_sites, password in wanted:
                    password = password or _random_password()
                    try:
                        user, created = demo_user_ensure(
                            username=username, superuser=superuser, role=role, sites=user_sites, password=password,
                        )
                    except DemoPasswordTooWeak as error:
                        raise CommandError(str(error)) from None
                    if created:
                        self.stdout.write(f"Created user {username}.")
                    passwords[user] = password
                admin, coordinator, investigator = passwords
                load = demo_cohort_load(sites=sites)
        except DemoCohortError as error:
            raise CommandError(str(error)) from None
        # Whatever is still missing or stale (settings changed with no worker running, say) is
        # derived now, in this process.
        caught_up = derivations_refresh()

        report_demo_load(self, sites, load, caught_up)
        self.stdout.write(self.style.SUCCESS("Log in to the workspace (/) with:"))
        width = max(len(user.username) for user in passwords)
        descriptions = {admin: "administrator, every site", coordinator: "coordinator, demo-a",
                        investigator: "investigator, every site, read-only"}
        for user, password in passwords.items():
            self.stdout.write(f"  {user.username:<{width}}  password: {password}  ({descriptions[user]})")


def _random_password() -> str:
    return secrets.token_urlsafe(12)
