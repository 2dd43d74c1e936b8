"""The REDCap API's record export is logged when it is identified (the token's user may export
identified data), with who, what and when; the de-identified export of a reader without the grant is
not an identified export and is not logged."""
import pytest
from django.utils import timezone

from registry.models import ExportDoor, IdentifiedExport, RegistryRole, Role
from tests import factories
from tests.redcap.conftest import make_token


@pytest.fixture
def registry(site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = "a-test-key-of-more-than-32-characters-x"
    for record_id in ("A-1", "A-2"):
        factories.make_full_patient(site_a, record_id)
    factories.make_full_patient(site_b, "B-1")


def test_an_identified_record_export_is_logged_with_who_what_and_when(redcap, registry, site_a):
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR, sites=[site_a])
    token = make_token(coordinator)
    started = timezone.now()

    answer = redcap(token, "record", format="csv", type="eav", **{"records[0]": "A-1", "records[1]": "B-1",
                                                                 "fields[0]": "sex"})

    assert answer.status == 200
    entry = IdentifiedExport.objects.get()
    assert (entry.user, entry.username, entry.door, entry.content, entry.file_format, entry.site_codes,
            entry.record_count) == (coordinator, "coordinator", ExportDoor.REDCAP_API, "records (eav)", "csv",
                                    "site-a", 1)
    assert entry.parameters == {
        "records": ["A-1", "B-1"], "fields": ["sex"], "forms": [], "filterLogic": "", "dateRangeBegin": "",
        "dateRangeEnd": "", "via": f"redcap api: token {token[:8]}",
    }
    assert started <= entry.exported_at <= timezone.now()


def test_a_deidentified_record_export_is_not_logged_and_the_grant_makes_it_logged(redcap, registry):
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)
    token = make_token(investigator)

    deidentified = redcap(token, "record", format="json")
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)
    identified = redcap(token, "record", format="json")

    assert deidentified.status == 200 and identified.status == 200
    assert "A-1" not in {row["record_id"] for row in deidentified.json()}
    assert "A-1" in {row["record_id"] for row in identified.json()}
    assert list(IdentifiedExport.objects.values_list("username", "door", "content", "file_format", "site_codes",
                                                     "record_count")) == [
        ("investigator", ExportDoor.REDCAP_API, "records (flat)", "json", "site-a, site-b", 3)]
