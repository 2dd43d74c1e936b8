"""content=record export for users who may export de-identified data only (investigators and viewers
without the identified-export grant), as REDCap's "De-Identified" export right, with the registry's
de-identification rule (issue 4: identifiers dropped, keyed pseudonyms, dates shifted 0-364 days).

The expected pseudonyms and offsets are worked out here from the rule's definition with hmac and
hashlib directly (registry/exports/deidentify.py is not called): pseudonym = first 16 hex digits of
HMAC-SHA256(key, "record_id:" + id); offset = first 8 bytes of HMAC-SHA256(key, "date_offset:" + id),
big-endian, modulo 365, in days, subtracted from every date of the patient.
"""
import hashlib
import hmac
from datetime import date, timedelta

import pytest

from registry.models import RegistryRole, Role
from registry.services.records import records_import
from tests import factories
from tests.records.flat_files import EVERY_INSTRUMENT_CSV
from tests.redcap.conftest import make_token

KEY = "a-test-key-of-more-than-32-characters-x"
DATE_FIELDS = ("consent_date", "adv_dx_date", "line_start", "line_end", "lt_date", "ta_date", "lm_date", "bx_date",
               "var_bx_date", "last_alive_date", "death_date")


def pseudonym(record_id: str) -> str:
    return hmac.new(KEY.encode(), f"record_id:{record_id}".encode(), hashlib.sha256).hexdigest()[:16]


def offset(record_id: str) -> timedelta:
    digest = hmac.new(KEY.encode(), f"date_offset:{record_id}".encode(), hashlib.sha256).digest()
    return timedelta(days=int.from_bytes(digest[:8], "big") % 365)


@pytest.fixture
def registry(site_a, site_b, settings):
    settings.DEIDENTIFICATION_KEY = KEY
    assert records_import(source=EVERY_INSTRUMENT_CSV, file_format="csv", site=site_a, user=None).ok
    factories.make_full_patient(site_b, "B-001")


@pytest.fixture
def investigator_token(investigator):
    return make_token(investigator)


def test_an_investigator_without_the_grant_gets_pseudonyms_shifted_dates_and_no_identifiers(
        redcap, admin_token, investigator_token, registry):
    identified = redcap(admin_token, "record", format="json").json()

    rows = redcap(investigator_token, "record", format="json").json()

    # The same rows, one for one, in pseudonym order instead of record ID order.
    by_key = {(row["record_id"], row["redcap_repeat_instrument"], row["redcap_repeat_instance"]): row
              for row in identified}
    assert len(rows) == len(identified)
    assert [row["record_id"] for row in rows] == sorted(row["record_id"] for row in rows)
    real_of = {pseudonym(real): real for real in {row["record_id"] for row in identified}}
    assert {row["record_id"] for row in rows} == set(real_of)
    for row in rows:
        real_id = real_of[row["record_id"]]
        real = by_key[(real_id, row["redcap_repeat_instrument"], row["redcap_repeat_instance"])]
        assert "mrn" not in row and "birth_date" not in row  # the dictionary's identifier fields
        for name, value in row.items():
            if name == "record_id":
                continue
            if name in DATE_FIELDS and real[name]:
                assert value == (date.fromisoformat(real[name]) - offset(real_id)).isoformat(), name
            else:
                assert value == real[name], name


def test_intervals_between_a_patients_dates_are_kept_exactly(redcap, admin_token, investigator_token, registry):
    def line_days(rows, record_id):
        line = next(row for row in rows if row["record_id"] == record_id and row["redcap_repeat_instrument"] ==
                    "treatment_line" and row["line_end"])
        return (date.fromisoformat(line["line_end"]) - date.fromisoformat(line["line_start"])).days

    identified = redcap(admin_token, "record", format="json").json()
    rows = redcap(investigator_token, "record", format="json").json()

    assert line_days(rows, pseudonym("EX-001")) == line_days(identified, "EX-001")


def test_an_identifier_field_asked_for_by_name_is_still_left_out(redcap, investigator_token, registry):
    rows = redcap(investigator_token, "record", format="csv", **{
        "fields[0]": "mrn", "fields[1]": "birth_date", "fields[2]": "sex", "records[0]": "EX-001"}).text

    assert rows.splitlines()[0] == "record_id,redcap_repeat_instrument,redcap_repeat_instance,sex"
    assert rows.splitlines()[1].startswith(pseudonym("EX-001") + ",")


def test_the_eav_export_and_the_sites_are_de_identified_too(redcap, investigator_token, registry):
    rows = redcap(investigator_token, "record", format="json", type="eav", exportDataAccessGroups="true",
                  **{"records[0]": "B-001"}).json()

    assert {row["record"] for row in rows} == {pseudonym("B-001")}
    assert {"field_name": "redcap_data_access_group", "value": "site-b"}.items() <= next(
        row for row in rows if row["field_name"] == "redcap_data_access_group").items()
    assert not {"mrn", "birth_date"} & {row["field_name"] for row in rows}


@pytest.mark.parametrize("logic", ["[birth_date] > '1960-01-01'", "[line_start] = '2020-01-15'", "[mrn] <> ''"])
def test_a_filter_on_an_identifier_or_a_date_is_refused(redcap, investigator_token, registry, logic):
    answer = redcap(investigator_token, "record", format="json", filterLogic=logic)

    assert answer.status == 400
    assert "de-identified" in answer.json()["error"]


def test_a_filter_on_other_fields_works_on_the_stored_values(redcap, investigator_token, registry):
    rows = redcap(investigator_token, "record", format="json", filterLogic="[sex] = '2'",
                  **{"fields[0]": "sex"}).json()
    everyone = redcap(investigator_token, "record", format="json", **{"fields[0]": "sex"}).json()

    assert rows and {row["sex"] for row in rows if row["redcap_repeat_instrument"] == ""} == {"2"}
    assert len(rows) < len(everyone)


def test_the_grant_gives_the_identified_records(redcap, investigator, investigator_token, registry):
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)

    rows = redcap(investigator_token, "record", format="json").json()

    assert {row["record_id"] for row in rows} == {"EX-001", "EX-002", "EX-003", "ex-004", "B-001"}
    assert any(row.get("mrn") for row in rows)


def test_a_viewer_gets_only_their_sites_records_de_identified(redcap, registry, site_a):
    viewer = factories.make_user("viewer", role=Role.VIEWER, sites=[site_a])

    rows = redcap(make_token(viewer), "record", format="json").json()

    assert {row["record_id"] for row in rows} == {pseudonym(r) for r in ("EX-001", "EX-002", "EX-003", "ex-004")}


def test_without_a_key_a_de_identified_export_is_refused_with_503(redcap, investigator_token, registry, settings):
    settings.DEIDENTIFICATION_KEY = None
    settings.SECRET_KEY = settings.LOCAL_DEVELOPMENT_SECRET_KEY

    answer = redcap(investigator_token, "record", format="json")

    assert answer.status == 503
    assert "REGISTRY_DEIDENTIFICATION_KEY" in answer.json()["error"]
