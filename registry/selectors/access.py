"""The one access rule: which sites' patients a user may see, and which they may change.

Admin, imports, exports and (later) the APIs all ask this module; nothing else decides.

- administrators (and superusers) see and change every site;
- investigators see every site and change nothing;
- coordinators see and change their own sites only;
- viewers see their own sites only;
- anyone else (no role, inactive, anonymous) sees nothing.

Identified data (the data dictionary's identifier fields, real record IDs and dates) is a second
question, `may_see_identified`: administrators and coordinators always see it for the sites they
see (they enter and correct it); investigators and viewers only with the "may export identified
data" grant on their role; without it they read de-identified data only (the datasets, the study
report, the REDCap API's de-identified export), and the admin hides the identifier fields from them.
"""
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from registry.models import Patient, RegistryRole, Role, Site, SiteMembership
from registry.records.dictionary import data_dictionary


@dataclass(frozen=True)
class Access:
    role: str | None
    site_ids: frozenset[int] | None  # None: every site
    can_write: bool
    identified: bool = False  # may see identified data of the sites it sees (may_see_identified)

    @property
    def sees_all_sites(self) -> bool:
        return self.site_ids is None

    def can_see_site(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    def can_change_site(self, site_id: int) -> bool:
        return self.can_write and self.can_see_site(site_id)

    def can_see_identified(self, site_id: int) -> bool:
        return self.identified and self.can_see_site(site_id)


NO_ACCESS = Access(role=None, site_ids=frozenset(), can_write=False)
_CACHE_ATTRIBUTE = "_registry_access"
# Roles that enter and correct identified records: they always see them (of their sites).
IDENTIFIED_BY_ROLE = frozenset({Role.ADMINISTRATOR, Role.COORDINATOR})
# Roles that read only: identified data needs the grant on their registry role.
IDENTIFIED_WITH_GRANT = frozenset({Role.INVESTIGATOR, Role.VIEWER})


def access_for(user) -> Access:
    """The user's access, computed once per user object (at most two queries). A change of role, sites
    or grant is seen by the next request (a new user object), or after `forget_access`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        access = Access(role=Role.ADMINISTRATOR, site_ids=None, can_write=True, identified=True)
    else:
        role, granted = RegistryRole.objects.filter(user=user).values_list(
            "role", "may_export_identified").first() or (None, False)
        identified = role in IDENTIFIED_BY_ROLE or (role in IDENTIFIED_WITH_GRANT and granted)
        if role == Role.ADMINISTRATOR:
            access = Access(role=role, site_ids=None, can_write=True, identified=identified)
        elif role == Role.INVESTIGATOR:
            access = Access(role=role, site_ids=None, can_write=False, identified=identified)
        elif role in (Role.COORDINATOR, Role.VIEWER):
            site_ids = frozenset(SiteMembership.objects.filter(user=user).values_list("site_id", flat=True))
            access = Access(role=role, site_ids=site_ids, can_write=role == Role.COORDINATOR, identified=identified)
        else:
            access = NO_ACCESS
    setattr(user, _CACHE_ATTRIBUTE, access)
    return access


def forget_access(user) -> None:
    """Drop the cached access, after the user's role or sites changed."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def _site_filter(access: Access, site_path: str) -> Q | None:
    """A filter keeping rows whose site (reached by `site_path`) the access covers; None = no filter."""
    if access.site_ids is None:
        return None
    return Q(**{f"{site_path}__in": access.site_ids})


def restrict_to_visible(queryset: QuerySet, user, *, site_path: str) -> QuerySet:
    """Narrow any queryset to the rows the user may see.

    `site_path` is the lookup from the queryset's model to the site id: "id" for sites,
    "site_id" for patients, "patient__site_id" for instrument instances.
    """
    access = access_for(user)
    if access is NO_ACCESS or (access.site_ids is not None and not access.site_ids):
        return queryset.none()
    condition = _site_filter(access, site_path)
    return queryset if condition is None else queryset.filter(condition)


def restrict_to_changeable(queryset: QuerySet, user, *, site_path: str) -> QuerySet:
    """Narrow a queryset to the rows the user may change."""
    if not access_for(user).can_write:
        return queryset.none()
    return restrict_to_visible(queryset, user, site_path=site_path)


def visible_sites(user) -> QuerySet[Site]:
    return restrict_to_visible(Site.objects.all(), user, site_path="id")


def changeable_sites(user) -> QuerySet[Site]:
    return restrict_to_changeable(Site.objects.all(), user, site_path="id")


def visible_patients(user) -> QuerySet[Patient]:
    return restrict_to_visible(Patient.objects.all(), user, site_path="site_id")


def may_see_identified(user) -> bool:
    """Whether `user` may see identified data (identifier fields, real record IDs and dates) of the
    patients they see: every door asks this. No query beyond `access_for`'s."""
    return access_for(user).identified


def identifier_field_names() -> frozenset[str]:
    """The patient fields the data dictionary flags "Identifier? = y", record_id excepted (the key
    every page and door needs; de-identified files replace it by a pseudonym)."""
    return frozenset(field.name for field in data_dictionary().fields if field.identifier and field.name != "record_id")


def can_see_patient(user, patient: Patient) -> bool:
    return access_for(user).can_see_site(patient.site_id)


def can_change_patient(user, patient: Patient) -> bool:
    return access_for(user).can_change_site(patient.site_id)


def can_change_site(user, site: Site) -> bool:
    return access_for(user).can_change_site(site.id)
