"""Sites, roles and memberships: read by registry users where useful, changed by administrators only."""
from django.contrib.auth import get_user_model
from django.urls import reverse

from registry.models import RegistryRole, Role, Site, SiteMembership
from tests import factories

from .admin_pages import change_url, changelist_url


def test_a_coordinator_sees_only_their_own_site_and_cannot_change_it(coordinator_client, site_a, site_b):
    listing = coordinator_client.get(changelist_url(Site))
    saving = coordinator_client.post(change_url(site_a), {"code": "renamed", "name": "Renamed"})

    assert list(listing.context["cl"].result_list) == [site_a]
    assert saving.status_code == 403
    assert Site.objects.get(pk=site_a.pk).code == "site-a"


def test_roles_and_memberships_are_hidden_from_coordinators(coordinator_client):
    roles = coordinator_client.get(changelist_url(RegistryRole))
    memberships = coordinator_client.get(changelist_url(SiteMembership))

    assert (roles.status_code, memberships.status_code) == (403, 403)


def test_an_administrator_grants_a_site_membership_recorded_with_the_admin_door(client, site_a):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    newcomer = factories.make_user("newcomer")
    client.force_login(administrator)

    response = client.post(changelist_url(SiteMembership) + "add/", {"user": newcomer.pk, "site": site_a.pk})

    assert response.status_code == 302
    membership = SiteMembership.objects.get(user=newcomer)
    assert membership.history.get().history_change_reason == "admin"


def test_the_user_page_shows_the_registry_role_and_site_memberships_inline(client, administrator, coordinator_a):
    client.force_login(administrator)

    response = client.get(reverse("admin:auth_user_change", args=[coordinator_a.pk]))

    assert response.status_code == 200
    models = [inline.formset.model for inline in response.context["inline_admin_formsets"]]
    assert models == [RegistryRole, SiteMembership]


def test_a_registry_administrator_cannot_edit_user_accounts(client, db):
    administrator = factories.make_user(role=Role.ADMINISTRATOR)
    other = factories.make_user("other")
    client.force_login(administrator)

    response = client.post(
        reverse("admin:auth_user_change", args=[other.pk]), {"username": "other", "is_superuser": "on"},
    )

    assert response.status_code == 404  # user accounts are for superusers: to others no account exists
    assert get_user_model().objects.get(pk=other.pk).is_superuser is False
