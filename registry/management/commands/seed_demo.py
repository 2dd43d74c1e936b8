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

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import RegistryRole, Role, SiteMembership
from registry.services.demo_cohort import DemoCohortError, demo_cohort_load
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
                admin = self._ensure_user(ADMIN_USERNAME, superuser=True, role=Role.ADMINISTRATOR, sites=())
                coordinator = self._ensure_user(
                    COORDINATOR_USERNAME, superuser=False, role=Role.COORDINATOR, sites=[sites["demo-a"]]
                )
                investigator = self._ensure_user(INVESTIGATOR_USERNAME, superuser=False, role=Role.INVESTIGATOR,
                                                 sites=())
                passwords = {
                    admin: admin_password or _random_password(),
                    coordinator: coordinator_password or _random_password(),
                    investigator: investigator_password or _random_password(),
                }
                for user, password in passwords.items():
                    _check_password(password, user)
                    user.set_password(password)
                    user.save(update_fields=["password"])
                load = demo_cohort_load(sites=sites)
        except DemoCohortError as error:
            raise CommandError(str(error)) from None
        # Whatever is still missing or stale (settings changed with no worker running, say) is
        # derived now, in this process.
        caught_up = derivations_refresh()

        report_demo_load(self, sites, load, caught_up)
        self.stdout.write(self.style.SUCCESS("Log in to the admin with:"))
        width = max(len(user.username) for user in passwords)
        descriptions = {admin: "administrator, every site", coordinator: "coordinator, demo-a",
                        investigator: "investigator, every site, read-only"}
        for user, password in passwords.items():
            self.stdout.write(f"  {user.username:<{width}}  password: {password}  ({descriptions[user]})")

    def _ensure_user(self, username: str, *, superuser: bool, role: str, sites):
        """The user with this name, active and able to log in to the admin, with this role and sites.

        Saves only what differs, so a re-run writes no audit-trail rows.
        """
        user, created = get_user_model().objects.get_or_create(username=username)
        wanted = {"is_active": True, "is_staff": True, "is_superuser": superuser}
        differing = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in differing:
            setattr(user, name, wanted[name])
        if created:
            user.save()
            self.stdout.write(f"Created user {username}.")
        elif differing:
            user.save(update_fields=differing)

        registry_role, _ = RegistryRole.objects.get_or_create(user=user, defaults={"role": role})
        if registry_role.role != role:
            registry_role.role = role
            registry_role.save(update_fields=["role"])
        for site in sites:
            SiteMembership.objects.get_or_create(user=user, site=site)
        return user


def _random_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise CommandError(f"The password for {user.username} is too weak: {' '.join(error.messages)}") from None
