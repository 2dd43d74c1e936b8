"""Two coordinators saving admin pages of one record at the same moment (PostgreSQL row locks): two adds
take consecutive instance numbers (no IntegrityError, no 500), and of two saves of pages showing the
same version exactly one goes through."""
import time

import pytest
from django.test import Client

from registry.models import Patient, Role, TreatmentLine
from registry.services import instances
from registry.services.patient_versions import current_versions
from tests import factories
from tests.concurrency import postgresql_only, race  # noqa: F401 (postgresql_only: an autouse fixture)

from .admin_pages import change_url, changelist_url, form_data_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def slowed_writes(monkeypatch, seconds: float = 0.5) -> None:
    """Each write waits inside its transaction, after its instance was numbered and its version
    checked: without the record's lock, the other writer would number and check meanwhile."""
    real = instances.instance_write

    def slow(instance, **arguments):
        time.sleep(seconds)
        return real(instance, **arguments)

    monkeypatch.setattr(instances, "instance_write", slow)


def logged_in(username, site) -> Client:
    client = Client()
    client.force_login(factories.make_user(username, role=Role.COORDINATOR, sites=[site]))
    return client


def test_two_lines_added_at_the_same_moment_take_consecutive_instance_numbers(monkeypatch):
    site = factories.make_site("site-a")
    patient = factories.make_patient(site, "P-A")
    first, second = logged_in("first", site), logged_in("second", site)
    add_url = changelist_url(TreatmentLine) + "add/"
    pages = []
    for line_no, client in ((1, first), (2, second)):
        page = form_data_of(client.get(add_url))
        page.update(patient=str(patient.pk), line_no=str(line_no), line_type="1", line_drug="7",
                    line_start=f"2021-0{line_no}-01", treatment_line_complete="0")
        pages.append(page)
    slowed_writes(monkeypatch)

    answers = race([lambda: first.post(add_url, pages[0]), lambda: second.post(add_url, pages[1])])

    assert [answer.status_code for answer in answers] == [302, 302]
    numbers = sorted(TreatmentLine.objects.filter(patient=patient).values_list("redcap_repeat_instance", flat=True))
    assert numbers == [1, 2]


def test_of_two_patient_pages_saved_at_the_same_moment_over_the_same_version_exactly_one_wins(monkeypatch):
    site = factories.make_site("site-a")
    patient = factories.make_patient(site, "P-A", mrn="MRN-0")
    first, second = logged_in("first", site), logged_in("second", site)
    first_page = form_data_of(first.get(change_url(patient)))
    second_page = form_data_of(second.get(change_url(patient)))
    first_page["mrn"], second_page["mrn"] = "MRN-FIRST", "MRN-SECOND"
    slowed_writes(monkeypatch)

    answers = race([
        lambda: first.post(change_url(patient), first_page), lambda: second.post(change_url(patient), second_page),
    ])

    assert sorted(answer.status_code for answer in answers) == [200, 302]
    winner = "MRN-FIRST" if answers[0].status_code == 302 else "MRN-SECOND"
    loser = answers[1] if winner == "MRN-FIRST" else answers[0]
    assert Patient.objects.get(pk=patient.pk).mrn == winner
    assert list(loser.context["adminform"].form.non_field_errors())[0].startswith(
        f"This record was changed by {'first' if winner == 'MRN-FIRST' else 'second'} at "
    )
    assert current_versions([patient.pk])[patient.pk] == f"{patient.pk}.2"
