"""Who may call what: the registry's one access rule (registry/selectors/access.py), as DRF permissions.

Reading needs a registry role (each endpoint then narrows to the sites the role sees); writing needs
a role that writes (coordinators for their sites, administrators); some endpoints are for
administrators only. Records of a site the user does not see answer 404, as if they did not exist.
"""
from rest_framework.permissions import BasePermission

from registry.models import Role
from registry.selectors.access import access_for

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class HasRegistryRole(BasePermission):
    message = "Your account has no registry role; an administrator gives it one in the admin."

    def has_permission(self, request, view):
        return request.user.is_authenticated and access_for(request.user).role is not None


class ReadsOrWrites(HasRegistryRole):
    """Reading for any role; changing only for roles that change records."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        access = access_for(request.user)
        if not access.can_write:
            self.message = f"Your role ({access.role}) reads records and changes none."
            return False
        return True


class IsAdministrator(HasRegistryRole):
    message = "Only administrators may do this."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and access_for(request.user).role == Role.ADMINISTRATOR
