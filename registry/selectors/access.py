"""The one access rule: which sites' patients a user may see, and which they may change.

Admin, imports, exports and (later) the APIs all ask this module; nothing else decides.

- administrators (and superusers) see and change every site;
- data managers see every site and enter no data; they open, close and reopen queries, run the
  data-quality rules, lock and unlock records, and sign locked records;
- investigators see every site and change nothing; they open queries and sign locked records;
- coordinators see and change their own sites only, and answer their sites' queries;
- viewers see their own sites only;
- anyone else (no role, inactive, anonymous) sees nothing.

What a user may do is a set of capabilities (`Capability`), each held for the sites the user sees:
`access_for(user).can(Capability.LOCK, site_id)`. `ROLE_CAPABILITIES` is the whole table.

Identified data (the data dictionary's identifier fields, real record IDs and dates) is a second
question, `may_see_identified`: administrators and coordinators always see it for the sites they
see (they enter and correct it); investigators and viewers only with the "may export identified
data" grant on their role; without it they read de-identified data only (the datasets, the study
report, the REDCap API's de-identified export), and the admin hides the identifier fields from them.
"""
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q, QuerySet

from registry.models import Patient, RegistryRole, Role, Site, SiteMembership
from registry.records.dictionary import data_dictionary
from registry.records.missing_codes import missing_column


class Capability(StrEnum):
    """What a user may do with the records of the sites they see (reading needs no capability)."""

    ENTER_DATA = "enter_data"  # create, change and delete records and instances
    OPEN_QUERY = "open_query"  # open a query (data resolution) on a field, instance or record
    RESPOND_QUERY = "respond_query"  # answer an open query of one's sites
    CLOSE_QUERY = "close_query"  # close or reopen any query (its opener may always close their own)
    RUN_RULES = "run_rules"  # run data-quality rules, mark hits "verified as correct"
    LOCK = "lock"  # lock and unlock instances and records
    SIGN = "sign"  # e-sign a locked record
    EXPORT_IDENTIFIED = "export_identified"  # see and export identified data (identifiers, real IDs and dates)


# The whole table. EXPORT_IDENTIFIED is granted by role (those who enter, correct or verify identified
# records) or, for read-only roles, by the "may export identified data" tick on their registry role.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMINISTRATOR: frozenset(Capability),
    Role.DATA_MANAGER: frozenset({
        Capability.OPEN_QUERY, Capability.CLOSE_QUERY, Capability.RUN_RULES, Capability.LOCK, Capability.SIGN,
        Capability.EXPORT_IDENTIFIED,
    }),
    Role.INVESTIGATOR: frozenset({Capability.OPEN_QUERY, Capability.SIGN}),
    Role.COORDINATOR: frozenset({Capability.ENTER_DATA, Capability.RESPOND_QUERY, Capability.EXPORT_IDENTIFIED}),
    Role.VIEWER: frozenset(),
}
# Read-only roles that see identified data only with the grant on their registry role.
IDENTIFIED_WITH_GRANT = frozenset({Role.INVESTIGATOR, Role.VIEWER})
# Roles that see every site; the others see the sites they are members of.
ALL_SITES_ROLES = frozenset({Role.ADMINISTRATOR, Role.DATA_MANAGER, Role.INVESTIGATOR})


@dataclass(frozen=True)
class Access:
    role: str | None
    site_ids: frozenset[int] | None  # None: every site
    capabilities: frozenset[Capability] = frozenset()

    @property
    def sees_all_sites(self) -> bool:
        return self.site_ids is None

    @property
    def can_write(self) -> bool:
        """Whether the user enters data at all (for the sites they see)."""
        return Capability.ENTER_DATA in self.capabilities

    @property
    def identified(self) -> bool:
        """Whether the user sees identified data of the sites they see (may_see_identified)."""
        return Capability.EXPORT_IDENTIFIED in self.capabilities

    def can_see_site(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    def can(self, capability: Capability, site_id: int | None = None) -> bool:
        """Whether the user holds `capability` — for `site_id` when given (a site they see)."""
        return capability in self.capabilities and (site_id is None or self.can_see_site(site_id))

    def can_change_site(self, site_id: int) -> bool:
        return self.can(Capability.ENTER_DATA, site_id)

    def can_see_identified(self, site_id: int) -> bool:
        return self.can(Capability.EXPORT_IDENTIFIED, site_id)


NO_ACCESS = Access(role=None, site_ids=frozenset())
_CACHE_ATTRIBUTE = "_registry_access"


def access_for(user) -> Access:
    """The user's access, computed once per user object (at most two queries). A change of role, sites
    or grant is seen by the next request (a new user object), or after `forget_access`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        access = Access(role=Role.ADMINISTRATOR, site_ids=None, capabilities=ROLE_CAPABILITIES[Role.ADMINISTRATOR])
    else:
        role, granted = RegistryRole.objects.filter(user=user).values_list(
            "role", "may_export_identified").first() or (None, False)
        if role not in ROLE_CAPABILITIES:
            access = NO_ACCESS
        else:
            capabilities = ROLE_CAPABILITIES[role]
            if role in IDENTIFIED_WITH_GRANT and granted:
                capabilities = capabilities | {Capability.EXPORT_IDENTIFIED}
            site_ids = None if role in ALL_SITES_ROLES else frozenset(
                SiteMembership.objects.filter(user=user).values_list("site_id", flat=True))
            access = Access(role=role, site_ids=site_ids, capabilities=capabilities)
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


def identifier_columns() -> frozenset[str]:
    """The identifier fields and their missing-data code companions (`mrn_missing`): a page that hides a
    field hides everything stored of it, its history included."""
    hidden = identifier_field_names()
    return frozenset({*hidden, *(missing_column(name) for name in hidden)})


def can_see_patient(user, patient: Patient) -> bool:
    return access_for(user).can_see_site(patient.site_id)


def can_change_patient(user, patient: Patient) -> bool:
    return access_for(user).can_change_site(patient.site_id)


def can_change_site(user, site: Site) -> bool:
    return access_for(user).can_change_site(site.id)


def user_can(user, capability: Capability, *, site_id: int | None = None) -> bool:
    """Whether `user` holds `capability` (for `site_id` when given): the question every door asks
    before a query transition, a rule run, a lock or a signature."""
    return access_for(user).can(capability, site_id)
