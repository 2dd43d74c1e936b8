"""Who may call what: the registry's one access rule (registry/selectors/access.py), as DRF permissions.

Reading needs a registry role (each endpoint then narrows to the sites the role sees); writing needs
a role that writes (coordinators for their sites, administrators); some endpoints are for
administrators only. Records of a site the user does not see answer 404, as if they did not exist.

The record resources (patients, instruments, whole records, sync, deletions, audit, derived results per
patient) serve identified data: they answer 403 to users who read de-identified data only
(investigators and viewers without the grant, `may_see_identified`), who read the datasets, the study
report and the REDCap API's de-identified export instead.
"""
from rest_framework.permissions import BasePermission

from registry.models import Role
from registry.selectors.access import access_for, may_see_identified

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEIDENTIFIED_ONLY = (
    "Your role reads de-identified data only: use /api/v1/datasets/ or the REDCap API. An administrator can "
    "grant identified data on your registry role (\"may export identified data\")."
)


class HasRegistryRole(BasePermission):
    message = "Your account has no registry role; an administrator gives it one in the admin."

    def has_permission(self, request, view):
        return request.user.is_authenticated and access_for(request.user).role is not None


class ReadsOrWrites(HasRegistryRole):
    """The record resources: reading for roles that see identified data; changing only for roles that
    change records (who all see identified data)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        access = access_for(request.user)
        if request.method not in SAFE_METHODS and not access.can_write:
            self.message = f"Your role ({access.role}) reads records and changes none."
            return False
        if not may_see_identified(request.user):
            self.message = DEIDENTIFIED_ONLY
            return False
        return True


class IsAdministrator(HasRegistryRole):
    message = "Only administrators may do this."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and access_for(request.user).role == Role.ADMINISTRATOR
