"""The workspace is a door like the others: every page of it, for every role of the matrix
(tests/access_roles.py), at a site the role sees and at one it does not.

- a record of a site the user does not see answers 404, whatever the page (no oracle);
- a record the user sees but may not change is shown read-only: no form posts anywhere but the log-out
  form, and every write (edit, new instance, delete, enrolment) is refused with nothing written;
- a record the user may change is shown with its forms.
"""
import re

import pytest
from django.urls import reverse

from registry.models import LocalTherapy, Patient, TreatmentLine
from registry.models.access import Role
from tests.factories import make_user
from tests.access_roles import CHANGES, SEES, matrix, roles, user_for, world  # noqa: F401 (world is a fixture)

# Once, on SQLite: the access rules are decided in Python over the same querysets on both.
pytestmark = pytest.mark.one_database("sqlite")

READ_PAGES = {
    "record home": lambda p: reverse("workspace:record", args=[p.record_id]),
    "scan": lambda p: reverse("workspace:scan", args=[p.record_id, p.tumor_assessments.get().redcap_repeat_instance]),
    "line": lambda p: reverse("workspace:instance", args=[p.record_id, "treatment_line", 1]),
    "local therapy": lambda p: reverse("workspace:instance", args=[p.record_id, "local_therapy", 1]),
    "lesion": lambda p: reverse("workspace:instance", args=[p.record_id, "lesion", 1]),
    "biopsy": lambda p: reverse("workspace:instance", args=[p.record_id, "biopsy", 1]),
    "enrolment": lambda p: reverse("workspace:record_form", args=[p.record_id, "enrollment"]),
    "vital status": lambda p: reverse("workspace:record_form", args=[p.record_id, "vital_status"]),
}
WRITE_PAGES = {
    "new scan": lambda p: reverse("workspace:scan_new", args=[p.record_id]),
    "new line": lambda p: reverse("workspace:instance_new", args=[p.record_id, "treatment_line"]),
    "new local therapy": lambda p: reverse("workspace:instance_new", args=[p.record_id, "local_therapy"]),
    "delete local therapy": lambda p: reverse("workspace:instance_delete", args=[p.record_id, "local_therapy", 1]),
}
# A form posting data: the log-out form is none, nor a data manager's "Lock" button (a lock is not
# data entry: registry/workspace/views/locks.py, tested in test_locked_records.py).
_POSTING_FORM = re.compile(r'<form[^>]*method="post"(?![^>]*action="(/logout/|/records/[^"]+/lock/)")', re.IGNORECASE)


def _login(client, role, world, name):
    user = user_for(role, world, name)
    client.force_login(user)
    return user


@roles
@matrix
@pytest.mark.parametrize("page", READ_PAGES)
def test_every_page_is_shown_to_whoever_sees_the_site_and_only_writers_get_forms(client, world, role, site, page):
    _login(client, role, world, "reader")
    patient = world.patients[site]
    response = client.get(READ_PAGES[page](patient))
    if site not in SEES[role]:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    body = response.content.decode()
    if site in CHANGES[role]:
        assert _POSTING_FORM.search(body) or page == "record home", "a writer gets the page's form"
    else:
        assert not _POSTING_FORM.search(body), "a read-only user gets no form"


@roles
@matrix
@pytest.mark.parametrize("page", WRITE_PAGES)
def test_pages_that_write_are_refused_to_whoever_may_not_change_the_site(client, world, role, site, page):
    _login(client, role, world, "writer")
    patient = world.patients[site]
    response = client.get(WRITE_PAGES[page](patient))
    if site in CHANGES[role]:
        assert response.status_code == 200
    elif site in SEES[role]:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


# Every (role, site) pair whose writes are refused; writers' saves are tested with each form.
REFUSED = [(role, site) for role in CHANGES for site in "AB" if site not in CHANGES[role]]


@pytest.mark.parametrize(("role", "site"), REFUSED)
def test_a_refused_edit_or_delete_writes_nothing(client, world, role, site):
    _login(client, role, world, "poster")
    patient = world.patients[site]
    line = TreatmentLine.objects.get(patient=patient)
    edit = client.post(reverse("workspace:instance", args=[patient.record_id, "treatment_line", 1]), {
        "line_no": "1", "line_type": "1", "line_drug": "7", "line_start": "2019-01-01",
        "treatment_line_complete": "2"})
    delete = client.post(WRITE_PAGES["delete local therapy"](patient), {"reason": "entered twice"})
    enrol = client.post(reverse("workspace:record_new"), {
        "site": str(patient.site_id), "record_id": "NEW-1", "sex": "1", "adv_dx_date": "2020-01-01"})
    expected = 404 if site not in SEES[role] else 403
    assert (edit.status_code, delete.status_code) == (expected, expected)
    if not CHANGES[role]:
        assert enrol.status_code in (403, 404)  # a role that changes no site enrols nobody
    else:
        assert enrol.status_code == 200  # the form again: the site is not one of the user's choices
    line.refresh_from_db()
    assert (line.line_drug, line.line_start.isoformat()) == (2, "2020-03-10")  # the factory's line, untouched
    assert LocalTherapy.objects.filter(patient=patient).count() == 1
    assert not Patient.objects.filter(record_id="NEW-1").exists()


def test_someone_not_logged_in_is_sent_to_the_login_page(client, world):
    patient = world.patients["A"]
    for page in [*READ_PAGES.values(), *WRITE_PAGES.values()]:
        response = client.get(page(patient))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("workspace:login"))
    assert client.get(reverse("workspace:worklist"))["Location"].startswith(reverse("workspace:login"))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_is_named_in_the_page_header(client, db, role):
    # The header says who you are: a role missing from the workspace's labels was shown as "no role".
    user = make_user(role=role)
    client.force_login(user)

    page = client.get(reverse("workspace:worklist")).content.decode()

    assert role.value.replace("_", " ") in page
    assert "no role" not in page
