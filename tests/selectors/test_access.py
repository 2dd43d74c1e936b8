"""The one access rule, checked as a matrix of roles × sites.

Expected values come from the rule (registry/selectors/access.py docstring): administrators see and
change all; investigators see all, change nothing; coordinators see and change their sites;
viewers see their sites; no role sees nothing.
"""
import pytest
from django.contrib.auth.models import AnonymousUser

from registry.models import LesionMeasurement, Role
from registry.selectors.access import (
    access_for, can_change_patient, can_see_patient, restrict_to_changeable, restrict_to_visible, visible_patients,
    visible_sites,
)
from tests import factories

# role → (sites the user belongs to, sites it may see, sites it may change)
MATRIX = {
    "superuser": ((), {"A", "B", "C"}, {"A", "B", "C"}),
    "administrator": ((), {"A", "B", "C"}, {"A", "B", "C"}),
    "investigator": ((), {"A", "B", "C"}, set()),
    "coordinator of A": (("A",), {"A"}, {"A"}),
    "coordinator of A and B": (("A", "B"), {"A", "B"}, {"A", "B"}),
    "viewer of A": (("A",), {"A"}, set()),
    "investigator who is also a member of A": (("A",), {"A", "B", "C"}, set()),
    "no role, member of A": (("A",), set(), set()),
    "no role": ((), set(), set()),
}
ROLE_OF = {
    "superuser": None, "administrator": Role.ADMINISTRATOR, "investigator": Role.INVESTIGATOR,
    "coordinator of A": Role.COORDINATOR, "coordinator of A and B": Role.COORDINATOR, "viewer of A": Role.VIEWER,
    "investigator who is also a member of A": Role.INVESTIGATOR, "no role, member of A": None, "no role": None,
}


@pytest.fixture
def world(db):
    sites = {code: factories.make_site(f"site-{code.lower()}") for code in ("A", "B", "C")}
    patients = {code: factories.make_full_patient(site, f"REC-{code}") for code, site in sites.items()}
    return sites, patients


def _user(world, role_name):
    sites, _ = world
    member_of, _, _ = MATRIX[role_name]
    return factories.make_user(
        role=ROLE_OF[role_name], sites=[sites[code] for code in member_of], superuser=role_name == "superuser"
    )


@pytest.mark.parametrize("role_name", list(MATRIX))
def test_each_role_sees_and_changes_exactly_the_sites_the_rule_gives_it(world, role_name):
    sites, patients = world
    user = _user(world, role_name)
    _, expected_visible, expected_changeable = MATRIX[role_name]

    visible = {p.record_id[-1] for p in visible_patients(user)}
    measurements = {m.patient.record_id[-1] for m in restrict_to_visible(
        LesionMeasurement.objects.select_related("patient"), user, site_path="patient__site_id")}
    changeable = {m.patient.record_id[-1] for m in restrict_to_changeable(
        LesionMeasurement.objects.select_related("patient"), user, site_path="patient__site_id")}

    assert visible == expected_visible
    assert {s.code[-1].upper() for s in visible_sites(user)} == expected_visible
    assert measurements == expected_visible
    assert changeable == expected_changeable
    for code, patient in patients.items():
        assert can_see_patient(user, patient) is (code in expected_visible)
        assert can_change_patient(user, patient) is (code in expected_changeable)


def test_an_anonymous_or_inactive_user_sees_nothing(world):
    sites, _ = world
    inactive = factories.make_user(role=Role.ADMINISTRATOR)
    inactive.is_active = False

    assert list(visible_patients(AnonymousUser())) == []
    assert list(visible_patients(inactive)) == []


def test_access_is_computed_with_at_most_two_queries_and_then_cached(world, django_assert_num_queries):
    user = _user(world, "coordinator of A")

    # 1: the user's role; 2: the user's site memberships. The second call reads the cache.
    with django_assert_num_queries(2):
        access_for(user)
        access_for(user)
