"""The roles × sites matrix comes from the Role enumeration: a role added later fails until described."""
import pytest
from _pytest.outcomes import Failed

from registry.models import Role
from registry.selectors.access import Capability, access_for, user_can
from tests import access_roles
from tests.access_roles import (  # noqa: F401 - world is a fixture
    CASES, CHANGES, ROLES, SEES, unhandled_roles, user_for, world,
)


def test_every_value_of_the_role_enumeration_says_what_it_sees_and_changes():
    assert unhandled_roles() == []
    assert {case.role for case in CASES.values()} == {*Role, None}


def test_the_matrix_has_one_case_per_role_plus_no_role_and_a_coordinator_of_two_sites():
    assert ROLES == ["coordinator of A", "viewer of A", "investigator", "data manager", "administrator",
                     "coordinator of A and B", "no role"]


def test_a_role_without_an_entry_fails_every_matrix_that_builds_its_user(world, monkeypatch):
    monkeypatch.setitem(access_roles.CASES, "monitor", None)

    with pytest.raises(Failed, match="'monitor' has no entry"):
        user_for("monitor", world)


@pytest.mark.parametrize("role", ROLES)
def test_each_cases_user_has_the_access_the_table_gives_it(world, role):
    access = access_for(user_for(role, world))

    assert {site for site, row in world.sites.items() if access.can_see_site(row.id)} == SEES[role]
    assert {site for site, row in world.sites.items() if access.can_change_site(row.id)} == CHANGES[role]


# What each case may do, written from the rights (not from ROLE_CAPABILITIES): a data manager
# opens and closes queries, runs rules, locks and signs, and enters no data; an investigator opens
# queries and signs; a coordinator enters data and answers queries of its sites; a viewer reads.
# Every capability is held for the sites the case sees, and for no other.
E, O, R, C, U, L, S, X = (Capability.ENTER_DATA, Capability.OPEN_QUERY, Capability.RESPOND_QUERY,
                          Capability.CLOSE_QUERY, Capability.RUN_RULES, Capability.LOCK, Capability.SIGN,
                          Capability.EXPORT_IDENTIFIED)
CAPABILITIES = {
    "administrator": {E, O, R, C, U, L, S, X},
    "data manager": {O, C, U, L, S, X},
    "investigator": {O, S},
    "coordinator of A": {E, R, X},
    "coordinator of A and B": {E, R, X},
    "viewer of A": set(),
    "no role": set(),
}


def test_the_capability_table_covers_every_case():
    assert sorted(CAPABILITIES) == sorted(ROLES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("site", ["A", "B"])
def test_each_case_holds_its_capabilities_for_the_sites_it_sees_only(world, role, site):
    user = user_for(role, world)
    site_id = world.sites[site].id

    held = {capability for capability in Capability if user_can(user, capability, site_id=site_id)}

    assert held == (CAPABILITIES[role] if site in SEES[role] else set())


def test_a_viewer_or_investigator_with_the_identified_grant_gains_export_identified_only(world):
    for role in ("viewer of A", "investigator"):
        user = user_for(role, world)
        user.registry_role.may_export_identified = True
        user.registry_role.save()
        fresh = type(user).objects.get(pk=user.pk)

        assert access_for(fresh).capabilities == frozenset(CAPABILITIES[role] | {X})
