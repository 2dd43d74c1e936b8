"""Custom data-quality rules through the admin: administrators only, saved through the service, and a
rule naming two repeating instruments refused with its reason and nothing saved."""
import pytest
from django.urls import reverse

from registry.models import QualityRule, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry_administrator(db):
    return factories.make_user("registry_admin", role=Role.ADMINISTRATOR)


def test_an_administrator_adds_a_custom_rule_and_is_recorded_as_its_author(client, registry_administrator):
    client.force_login(registry_administrator)

    response = client.post(reverse("admin:registry_qualityrule_add"),
                           {"name": "Scan after death", "logic": "[ta_date] > [death_date]", "active": "on"})

    assert response.status_code == 302
    rule = QualityRule.objects.get()
    assert (rule.logic, rule.created_by) == ("[ta_date] > [death_date]", registry_administrator)
    assert rule.history.count() == 1


def test_a_rule_naming_two_repeating_instruments_is_refused_in_the_admin(client, registry_administrator):
    client.force_login(registry_administrator)

    response = client.post(reverse("admin:registry_qualityrule_add"),
                           {"name": "Scan before line", "logic": "[ta_date] < [line_start]", "active": "on"})

    assert response.status_code == 200  # the form again, with the error
    assert "2 repeating instruments (treatment_line, tumor_assessment)" in response.content.decode()
    assert not QualityRule.objects.exists()


def test_a_data_manager_does_not_reach_the_admin_s_custom_rules(client):
    client.force_login(factories.make_user("dm", role=Role.DATA_MANAGER))

    response = client.get(reverse("admin:registry_qualityrule_changelist"))

    assert response.status_code == 403
