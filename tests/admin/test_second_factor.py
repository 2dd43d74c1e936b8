"""Second factor (registry/admin/second_factor.py): users of the roles named in
REQUIRE_SECOND_FACTOR_ROLES (administrators here, as in production; superusers count as
administrators) reach no admin page until they have entered a code from their authenticator app."""
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import Patient, Role
from registry.services.api_tokens import api_token_create
from tests import factories

PAGE = "/admin/second-factor/"
PATIENTS = "/admin/registry/patient/"


@pytest.fixture(autouse=True)
def administrators_need_a_second_factor(settings):
    settings.REQUIRE_SECOND_FACTOR_ROLES = ["administrator"]


@pytest.fixture
def superuser_client(client, administrator):
    client.force_login(administrator)
    return client


def code_of(device: TOTPDevice) -> str:
    """The code the user's app shows now, computed from the device's key (RFC 6238, 30-second steps)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def set_up_and_verify(client) -> TOTPDevice:
    client.get(PAGE)
    device = TOTPDevice.objects.get(user_id=client.session["_auth_user_id"])
    response = client.post(PAGE, {"otp_token": code_of(device), "next": PATIENTS})
    assert (response.status_code, response["Location"]) == (302, PATIENTS)
    return device


def test_a_superuser_without_a_verified_device_is_sent_to_the_second_factor_page_from_every_admin_page(
    superuser_client, site_a,
):
    patient = factories.make_patient(site_a, "A-1", sex=2)

    pages = [superuser_client.get(path) for path in (PATIENTS, f"{PATIENTS}{patient.pk}/change/", "/admin/")]
    change = superuser_client.post(f"{PATIENTS}{patient.pk}/change/", {"record_id": "A-1", "sex": 1})

    for response in [*pages, change]:
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == PAGE
    assert parse_qs(urlsplit(pages[1]["Location"]).query) == {"next": [f"{PATIENTS}{patient.pk}/change/"]}
    assert Patient.objects.get(pk=patient.pk).sex == 2


def test_the_setup_page_shows_the_provisioning_uri_as_text_and_as_a_qr_code(superuser_client):
    response = superuser_client.get(PAGE)

    device = TOTPDevice.objects.get()
    text = response.content.decode()
    assert response.status_code == 200
    assert device.confirmed is False
    assert device.config_url.startswith("otpauth://totp/ALK%2B%20NSCLC%20registry%3Aadministrator?secret=")
    assert f'<code id="second-factor-uri">{device.config_url.replace("&", "&amp;")}</code>' in text
    assert '<div id="second-factor-qr"><svg ' in text


def test_a_valid_code_from_the_app_confirms_the_device_and_opens_the_admin(superuser_client):
    device = set_up_and_verify(superuser_client)

    patients = superuser_client.get(PATIENTS)

    device.refresh_from_db()
    assert device.confirmed is True
    assert patients.status_code == 200


def test_a_wrong_code_is_refused_with_a_message_and_opens_nothing(superuser_client):
    superuser_client.get(PAGE)
    device = TOTPDevice.objects.get()
    wrong = f"{(int(code_of(device)) + 500_000) % 1_000_000:06d}"

    refused = superuser_client.post(PAGE, {"otp_token": wrong, "next": PATIENTS})
    not_digits = superuser_client.post(PAGE, {"otp_token": "abcdef", "next": PATIENTS})

    device.refresh_from_db()
    assert refused.status_code == 400
    assert "This code is not valid: it is wrong, already used, or entered too soon" in refused.content.decode()
    assert not_digits.status_code == 400
    assert "Enter the 6 digits your authenticator app shows." in not_digits.content.decode()
    assert device.confirmed is False
    assert superuser_client.get(PATIENTS).status_code == 302


def test_a_user_with_a_confirmed_app_is_asked_for_a_code_and_never_shown_the_key_again(client, administrator):
    client.force_login(administrator)
    device = set_up_and_verify(client)
    client.logout()
    client.force_login(administrator)

    asked = client.get(PAGE)

    assert client.get(PATIENTS).status_code == 302
    assert asked.status_code == 200
    assert "Enter the code your authenticator app shows" in asked.content.decode()
    assert device.key not in asked.content.decode()
    assert "otpauth://" not in asked.content.decode()


def test_an_administrator_by_role_is_asked_too_and_a_coordinator_is_not(client, site_a):
    administrator = factories.make_user("registry_admin", role=Role.ADMINISTRATOR)
    coordinator = factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])

    client.force_login(administrator)
    administrator_answer = client.get(PATIENTS)
    client.force_login(coordinator)
    coordinator_answer = client.get(PATIENTS)

    assert administrator_answer.status_code == 302
    assert coordinator_answer.status_code == 200
    assert not TOTPDevice.objects.filter(user=coordinator).exists()


def test_with_no_roles_configured_nobody_is_asked(settings, superuser_client):
    settings.REQUIRE_SECOND_FACTOR_ROLES = []

    assert superuser_client.get(PATIENTS).status_code == 200


def test_the_next_address_must_be_on_this_site(superuser_client):
    superuser_client.get(PAGE)
    device = TOTPDevice.objects.get()

    response = superuser_client.post(PAGE, {"otp_token": code_of(device), "next": "https://elsewhere.example/"})

    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_resetting_a_user_s_second_factor_sends_them_to_set_up_a_new_app(superuser_client, administrator):
    set_up_and_verify(superuser_client)

    call_command("reset_second_factor", "administrator")
    again = superuser_client.get(PATIENTS)

    assert TOTPDevice.objects.filter(user=administrator).count() == 0
    assert again.status_code == 302
    assert "otpauth://" in superuser_client.get(PAGE).content.decode()


def test_the_api_doors_take_their_token_without_a_second_factor(client, administrator):
    _, secret = api_token_create(user=administrator, name="sync")
    client.force_login(administrator)  # even with an unverified admin session in the same browser

    rest = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Token {secret}")

    assert rest.status_code == 200
