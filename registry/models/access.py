"""Who may see and change which site's patients.

The rule itself lives in one selector (registry/selectors/access.py); these tables only
record each user's role and sites.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Site coordinator (enters and corrects its sites' data)"
    VIEWER = "viewer", "Site viewer (reads its sites' data)"
    INVESTIGATOR = "investigator", "Investigator (reads every site)"
    DATA_MANAGER = "data_manager", "Data manager (reads every site; queries, rules, locks; enters no data)"
    ADMINISTRATOR = "administrator", "Administrator (reads and changes everything)"


class RegistryRole(models.Model):
    """A user's role in the registry. Superusers are administrators whatever this says."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_role")
    role = models.CharField(max_length=20, choices=Role.choices)
    may_export_identified = models.BooleanField(
        "may export identified data", default=False,
        help_text="Investigators and viewers export de-identified files only, unless this is ticked. "
                  "Administrators and coordinators (for their sites) always may.",
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


class SiteMembership(models.Model):
    """A user's membership of one site; coordinators and viewers see only their sites."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships")
    site = models.ForeignKey("registry.Site", on_delete=models.CASCADE, related_name="memberships")
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="site_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code}"
