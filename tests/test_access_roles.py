"""The roles × sites matrix comes from the Role enumeration: a role added later fails until described."""
import pytest
from _pytest.outcomes import Failed

from registry.models import Role
from registry.selectors.access import access_for
from tests import access_roles
from tests.access_roles import (  # noqa: F401 - world is a fixture
    CASES, CHANGES, ROLES, SEES, unhandled_roles, user_for, world,
)


def test_every_value_of_the_role_enumeration_says_what_it_sees_and_changes():
    assert unhandled_roles() == []
    assert {case.role for case in CASES.values()} == {*Role, None}


def test_the_matrix_has_one_case_per_role_plus_no_role_and_a_coordinator_of_two_sites():
    assert ROLES == ["coordinator of A", "viewer of A", "investigator", "administrator", "coordinator of A and B",
                     "no role"]


def test_a_role_without_an_entry_fails_every_matrix_that_builds_its_user(world, monkeypatch):
    monkeypatch.setitem(access_roles.CASES, "data manager", None)

    with pytest.raises(Failed, match="'data manager' has no entry"):
        user_for("data manager", world)


@pytest.mark.parametrize("role", ROLES)
def test_each_cases_user_has_the_access_the_table_gives_it(world, role):
    access = access_for(user_for(role, world))

    assert {site for site, row in world.sites.items() if access.can_see_site(row.id)} == SEES[role]
    assert {site for site, row in world.sites.items() if access.can_change_site(row.id)} == CHANGES[role]
