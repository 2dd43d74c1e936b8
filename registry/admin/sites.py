"""Sites, roles and site memberships: the tables the access rule reads.

Only administrators change them. Registry users may read the sites they see (their hospital's
code and name), because the site filters and the patient's site field name them.
"""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from registry.models import RegistryRole, Role, Site, SiteMembership
from registry.selectors.access import access_for

from .mixins import (
    AdministratorOnlyMixin, AuditedSaveMixin, NulParametersRefusedMixin, ReadOnlyHistoryMixin, RegistryAccessMixin,
    UnseenIsMissingMixin,
)


@admin.register(Site)
class SiteAdmin(ReadOnlyHistoryMixin, RegistryAccessMixin, AuditedSaveMixin, SimpleHistoryAdmin):
    """Users read the sites they see; only administrators add, change or delete one.

    A site's code is its REDCap data access group name, which every REDCap client sees: a coordinator
    changes their sites' patients, never the site row itself (not even through its history pages).
    """

    site_path = "id"
    list_display = ("code", "name", "patient_count")
    search_fields = ("code", "name")
    ordering = ("code",)

    def site_id_of(self, obj) -> int | None:
        return obj.id

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(patient_count=Count("patients"))

    def _is_administrator(self, request) -> bool:
        return access_for(request.user).role == Role.ADMINISTRATOR

    def has_change_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request):
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)

    @admin.display(description="patients", ordering="patient_count")
    def patient_count(self, obj):
        return obj.patient_count


class SiteMembershipInline(AdministratorOnlyMixin, admin.TabularInline):
    model = SiteMembership
    extra = 0


@admin.register(RegistryRole)
class RegistryRoleAdmin(ReadOnlyHistoryMixin, AdministratorOnlyMixin, AuditedSaveMixin, SimpleHistoryAdmin):
    list_display = ("user", "role")
    list_select_related = ("user",)
    list_filter = ("role",)
    search_fields = ("user__username",)


@admin.register(SiteMembership)
class SiteMembershipAdmin(ReadOnlyHistoryMixin, AdministratorOnlyMixin, AuditedSaveMixin, SimpleHistoryAdmin):
    list_display = ("user", "site")
    list_select_related = ("user", "site")
    list_filter = ("site",)
    search_fields = ("user__username", "site__code")


class RegistryRoleInline(AdministratorOnlyMixin, admin.StackedInline):
    model = RegistryRole
    can_delete = True
    max_num = 1
    extra = 0


# The user page shows the user's registry role and sites. Who may edit users at all is still
# decided by Django's own permissions (superusers): a registry administrator must not be able to
# make themselves a superuser.
User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class RegistryUserAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, AuditedSaveMixin, UserAdmin):
    inlines = [RegistryRoleInline, SiteMembershipInline]


# Groups are Django's own (superusers only); re-registered so that a user id or group id answers the
# same 404 whether it exists or not, like every other admin page.
admin.site.unregister(Group)


@admin.register(Group)
class RegistryGroupAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, GroupAdmin):
    pass
