"""The roles × sites matrix every door is tested with (admin, REST API, REDCap API): who sees and
who changes sites A and B, and a world of one full patient at each site.

The cases come from the Role enumeration itself: one case per value of `Role` (ROLE_CASES), plus the
cases that are not one role at one site (EXTRA_CASES). A value added to `Role` without an entry in
ROLE_CASES still becomes a case of every matrix, named after the value, whose user cannot be built:
every matrix then fails for it until someone writes down what that role may see and change.
"""
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from registry.models import Role
from tests import factories


@dataclass(frozen=True)
class RoleCase:
    role: Role | None  # None: a user without a registry role
    member_of: tuple[str, ...]  # the sites the user is a member of
    sees: frozenset[str]
    changes: frozenset[str]


def _case(role, member_of=(), *, sees="", changes="") -> RoleCase:
    return RoleCase(role, tuple(member_of), frozenset(sees), frozenset(changes))


# One entry per value of Role, keyed by the value: the case's name and what it sees and changes.
ROLE_CASES: dict[Role, tuple[str, RoleCase]] = {
    Role.ADMINISTRATOR: ("administrator", _case(Role.ADMINISTRATOR, sees="AB", changes="AB")),
    Role.INVESTIGATOR: ("investigator", _case(Role.INVESTIGATOR, sees="AB")),
    # A data manager reads every site and enters no data (queries, rules and locks are not data entry).
    Role.DATA_MANAGER: ("data manager", _case(Role.DATA_MANAGER, sees="AB")),
    Role.COORDINATOR: ("coordinator of A", _case(Role.COORDINATOR, "A", sees="A", changes="A")),
    Role.VIEWER: ("viewer of A", _case(Role.VIEWER, "A", sees="A")),
}
EXTRA_CASES: dict[str, RoleCase] = {
    "coordinator of A and B": _case(Role.COORDINATOR, "AB", sees="AB", changes="AB"),
    "no role": _case(None),
}


def unhandled_roles() -> list[str]:
    """Values of Role that ROLE_CASES does not describe (a role added to the model later)."""
    return [role.value for role in Role if role not in ROLE_CASES]


def _all_cases() -> dict[str, RoleCase | None]:
    cases: dict[str, RoleCase | None] = {}
    for role in Role:
        name, case = ROLE_CASES.get(role, (role.value, None))
        cases[name] = case
    cases.update(EXTRA_CASES)
    return cases


CASES = _all_cases()
ROLES = list(CASES)
# What each case sees and changes. An unhandled role sees and changes nothing here, and its user
# cannot be built (user_for fails), so no matrix passes for it by accident.
SEES = {name: set(case.sees) if case else set() for name, case in CASES.items()}
CHANGES = {name: set(case.changes) if case else set() for name, case in CASES.items()}
WRITERS = {role for role, sites in CHANGES.items() if sites}
# Roles that see identified data (identifier fields, real record IDs and dates) of the sites they see:
# those who enter records, and data managers who verify them; investigators and viewers only with the grant, which this matrix's users
# lack (tests/api/test_identified_data.py gives it to them).
IDENTIFIED = {"administrator", "data manager", "coordinator of A", "coordinator of A and B"}
matrix = pytest.mark.parametrize("site", ["A", "B"])
roles = pytest.mark.parametrize("role", ROLES)


@pytest.fixture
def world(site_a, site_b):
    """Sites A and B, each with one patient having one instance of every instrument."""
    patients = {"A": factories.make_full_patient(site_a, "P-A"), "B": factories.make_full_patient(site_b, "P-B")}
    return SimpleNamespace(sites={"A": site_a, "B": site_b}, patients=patients)


def user_for(role: str, world, username: str | None = None):
    """A user of the case named `role`, member of that case's sites of `world`."""
    case = CASES[role]
    if case is None:
        pytest.fail(f"Role {role!r} has no entry in tests/access_roles.py ROLE_CASES: say what it sees and changes.")
    sites = [world.sites[name] for name in case.member_of]
    return factories.make_user(username, role=case.role, sites=sites)
