"""The identified-data question of the access rule (`may_see_identified`), as a matrix of roles × grant.

Expected values come from the rule (registry/selectors/access.py docstring): administrators (and
superusers) and coordinators always may, for the sites they see; investigators and viewers only with
the "may export identified data" grant; no role, an inactive or an anonymous user never.
"""
import pytest
from django.contrib.auth.models import AnonymousUser

from registry.models import RegistryRole, Role
from registry.selectors.access import access_for, identifier_field_names, may_see_identified
from registry.selectors.export_access import may_export_identified
from tests import factories

# (role, granted) → may see identified data
MATRIX = {
    ("superuser", False): True,
    (Role.ADMINISTRATOR, False): True,
    (Role.COORDINATOR, False): True,
    (Role.INVESTIGATOR, False): False,
    (Role.INVESTIGATOR, True): True,
    (Role.VIEWER, False): False,
    (Role.VIEWER, True): True,
    (None, False): False,
}


@pytest.mark.parametrize("role, granted", list(MATRIX))
def test_each_role_sees_identified_data_exactly_as_the_rule_says(site_a, site_b, role, granted):
    user = factories.make_user(role=None if role == "superuser" else role, superuser=role == "superuser",
                               sites=[site_a] if role in (Role.COORDINATOR, Role.VIEWER) else [])
    RegistryRole.objects.filter(user=user).update(may_export_identified=granted)
    expected = MATRIX[role, granted]

    assert may_see_identified(user) is expected
    assert access_for(user).can_see_identified(site_a.id) is expected
    # Only for the sites the user sees: a coordinator or viewer of site A none of site B's.
    assert access_for(user).can_see_identified(site_b.id) is (expected and role not in (Role.COORDINATOR, Role.VIEWER))
    # The export rule asks the same question (a user without a role sees no patient, so their "identified"
    # export holds nothing: allowed, as before).
    assert may_export_identified(user) is (expected or role is None)


def test_an_anonymous_or_inactive_user_never_sees_identified_data(db):
    inactive = factories.make_user(role=Role.ADMINISTRATOR)
    inactive.is_active = False

    assert may_see_identified(AnonymousUser()) is False
    assert may_see_identified(inactive) is False


def test_the_grant_is_read_with_the_role_in_one_query(site_a, django_assert_num_queries):
    investigator = factories.make_user(role=Role.INVESTIGATOR)
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)

    # 1: the role with its grant (an investigator has no site query); then the cache answers.
    with django_assert_num_queries(1):
        assert may_see_identified(investigator) is True
        assert may_see_identified(investigator) is True


def test_the_identifier_fields_are_the_data_dictionarys_except_the_record_id():
    # The dictionary flags record_id, mrn and birth_date "Identifier? = y"; record_id is the key every
    # door needs, pseudonymised in de-identified files rather than left out.
    assert identifier_field_names() == frozenset({"mrn", "birth_date"})
