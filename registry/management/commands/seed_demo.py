"""Demo data for trying the registry on one machine: two sites, two users, six invented patients.

Idempotent: sites, users, roles and memberships are created only when missing, and a demo
patient is imported only if no patient with its record ID exists yet (so corrections made in the
admin survive a re-run). The demo users get new random passwords each run, printed at the end,
unless --admin-password / --coordinator-password are given.

For demos and local use only: it resets the passwords of the users named `admin` and
`coordinator_a`.
"""
import csv
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import AnalysisSettings, Patient, PatientDerivation, RegistryRole, Role, Site, SiteMembership
from registry.services.derivation import analysis_settings_update, derivations_refresh
from registry.services.records import records_import

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
ADMIN_USERNAME = "admin"
COORDINATOR_USERNAME = "coordinator_a"
# The demo records end in June 2024; on a new database the analysis settings start with this
# cut-off so that the demo shows PFS and OS. Settings that exist already are left as they are.
DEMO_DATA_CUTOFF = date(2024, 6, 30)


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    records_file: Path  # REDCap flat CSV, the layout of fixtures/example_records.csv


DEMO_SITES = (
    DemoSite("demo-a", "Demo Hospital A", FIXTURES_DIR / "demo_records_site_a.csv"),
    DemoSite("demo-b", "Demo Hospital B", FIXTURES_DIR / "demo_records_site_b.csv"),
)


class Command(BaseCommand):
    help = "Create the demo sites, an administrator, a coordinator and the demo patients (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", help="Password for 'admin' (default: a new random one).")
        parser.add_argument(
            "--coordinator-password", help="Password for 'coordinator_a' (default: a new random one)."
        )

    def handle(self, *args, admin_password=None, coordinator_password=None, **options):
        # All or nothing: a demo file that fails to import leaves no sites or users behind.
        with transaction.atomic():
            sites = {demo.code: self._ensure_site(demo) for demo in DEMO_SITES}
            admin = self._ensure_user(ADMIN_USERNAME, superuser=True, role=Role.ADMINISTRATOR, sites=())
            coordinator = self._ensure_user(
                COORDINATOR_USERNAME, superuser=False, role=Role.COORDINATOR, sites=[sites["demo-a"]]
            )
            passwords = {
                admin: admin_password or _random_password(),
                coordinator: coordinator_password or _random_password(),
            }
            for user, password in passwords.items():
                _check_password(password, user)
                user.set_password(password)
                user.save(update_fields=["password"])
            if not AnalysisSettings.objects.exists():
                # The imports below derive their patients after the commit, with these settings.
                analysis_settings_update(values={"data_cutoff": DEMO_DATA_CUTOFF}, user=None,
                                         derive_all_after_commit=False)
            loaded = [(demo, self._load_records(demo, sites[demo.code])) for demo in DEMO_SITES]
        # Whatever is still missing or stale (demo patients loaded before derivations existed, or
        # settings changed with no worker running) is derived now, in this process.
        caught_up = derivations_refresh()

        for demo, record_ids in loaded:
            if record_ids:
                self.stdout.write(f"Loaded {len(record_ids)} demo patients into {demo.code}: {', '.join(record_ids)}")
            else:
                self.stdout.write(f"Demo patients of {demo.code} already loaded.")
        total = Patient.objects.filter(site__code__in=sites).count()
        self.stdout.write(f"Demo sites {', '.join(sites)} hold {total} patients.")
        current = PatientDerivation.objects.filter(is_stale=False).count()
        self.stdout.write(f"Derived results are current for {current} patients "
                          f"({caught_up.patients} derived just now), data cut-off "
                          f"{AnalysisSettings.objects.get(pk=1).data_cutoff or 'not set'}.")
        self.stdout.write(self.style.SUCCESS("Log in to the admin with:"))
        width = max(len(user.username) for user in passwords)
        descriptions = {admin: "administrator, every site", coordinator: "coordinator, demo-a"}
        for user, password in passwords.items():
            self.stdout.write(f"  {user.username:<{width}}  password: {password}  ({descriptions[user]})")

    def _ensure_site(self, demo: DemoSite) -> Site:
        site, created = Site.objects.get_or_create(code=demo.code, defaults={"name": demo.name})
        if created:
            self.stdout.write(f"Created site {site}.")
        return site

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

    def _load_records(self, demo: DemoSite, site: Site) -> list[str]:
        """Import the demo patients of this site that are not in the registry yet; return their IDs."""
        with demo.records_file.open(newline="", encoding="utf-8") as source:
            reader = csv.DictReader(source)
            header = reader.fieldnames
            rows = list(reader)
        record_ids = list(dict.fromkeys(row["record_id"] for row in rows))
        present = set(Patient.objects.filter(record_id__in=record_ids).values_list("record_id", flat=True))
        missing = [record_id for record_id in record_ids if record_id not in present]
        if not missing:
            return []
        if not present:
            self._import(demo.records_file, demo, site)
            return missing
        # Some demo patients exist (others were deleted): import only the missing ones, so the
        # existing ones keep any changes made to them.
        with tempfile.TemporaryDirectory() as folder:
            partial_file = Path(folder) / demo.records_file.name
            with partial_file.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, header, lineterminator="\n")
                writer.writeheader()
                writer.writerows(row for row in rows if row["record_id"] in missing)
            self._import(partial_file, demo, site)
        return missing

    def _import(self, path: Path, demo: DemoSite, site: Site) -> None:
        result = records_import(
            source=path, file_format="csv", site=site, user=None, door="seed_demo", file_name=demo.records_file.name
        )
        if not result.ok:
            listed = "\n".join(
                f"  line {problem.line} {problem.record} {problem.instrument} #{problem.instance} "
                f"{problem.field}={problem.value!r}: {problem.reason}"
                for problem in result.problems
            )
            raise CommandError(
                f"{demo.records_file} did not import into {site.code}; nothing was written:\n{listed}"
            )


def _random_password() -> str:
    return secrets.token_urlsafe(12)


def _check_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise CommandError(f"The password for {user.username} is too weak: {' '.join(error.messages)}") from None
