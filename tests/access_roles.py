"""The roles × sites matrix every door is tested with (admin, REST API, REDCap API): who sees and
who changes sites A and B, and a world of one full patient at each site."""
from types import SimpleNamespace

import pytest

from registry.models import Role
from tests import factories

ROLES = ["administrator", "investigator", "coordinator of A", "coordinator of A and B", "viewer of A", "no role"]
SEES = {
    "administrator": {"A", "B"}, "investigator": {"A", "B"}, "coordinator of A": {"A"},
    "coordinator of A and B": {"A", "B"}, "viewer of A": {"A"}, "no role": set(),
}
CHANGES = {
    "administrator": {"A", "B"}, "investigator": set(), "coordinator of A": {"A"},
    "coordinator of A and B": {"A", "B"}, "viewer of A": set(), "no role": set(),
}
WRITERS = {role for role, sites in CHANGES.items() if sites}
# Roles that see identified data (identifier fields, real record IDs and dates) of the sites they see:
# those who enter records; investigators and viewers only with the grant, which this matrix's users
# lack (tests/api/test_identified_data.py gives it to them).
IDENTIFIED = {"administrator", "coordinator of A", "coordinator of A and B"}
matrix = pytest.mark.parametrize("site", ["A", "B"])
roles = pytest.mark.parametrize("role", ROLES)


@pytest.fixture
def world(site_a, site_b):
    """Sites A and B, each with one patient having one instance of every instrument."""
    patients = {"A": factories.make_full_patient(site_a, "P-A"), "B": factories.make_full_patient(site_b, "P-B")}
    return SimpleNamespace(sites={"A": site_a, "B": site_b}, patients=patients)


def user_for(role: str, world):
    sites = world.sites
    if role == "administrator":
        return factories.make_user(role=Role.ADMINISTRATOR)
    if role == "investigator":
        return factories.make_user(role=Role.INVESTIGATOR)
    if role == "coordinator of A":
        return factories.make_user(role=Role.COORDINATOR, sites=[sites["A"]])
    if role == "coordinator of A and B":
        return factories.make_user(role=Role.COORDINATOR, sites=[sites["A"], sites["B"]])
    if role == "viewer of A":
        return factories.make_user(role=Role.VIEWER, sites=[sites["A"]])
    return factories.make_user()
