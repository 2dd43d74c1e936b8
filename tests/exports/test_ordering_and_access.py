"""Rows are ordered by record_id the same way on every database, and only visible patients are exported."""
import pytest

from registry.models import RegistryRole, Role
from tests import factories
from tests.exports.exported import export_records
from tests.exports.populated import make_derived_patient

DATASETS = ["lines", "endpoints", "assessments", "biopsies", "patients", "responses", "tumor_sums"]


@pytest.mark.parametrize("name", DATASETS)
def test_rows_are_in_code_point_order_of_record_id_whatever_the_collation(site_a, tmp_path, name):
    # Under a PostgreSQL en_US collation ORDER BY record_id gives a-1, B-1, ex-10, EX-11, ex-2 (case and
    # punctuation ignored at first); SQLite's BINARY gives code-point order. Entered out of both orders.
    # (IDs differing only in case, such as ex-10 and EX-10, cannot both exist.)
    for record_id in ("ex-2", "a-1", "EX-11", "B-1", "ex-10"):
        make_derived_patient(site_a, record_id)

    records = export_records(tmp_path, name)

    order = list(dict.fromkeys(record["record_id"] for record in records))
    assert order == ["B-1", "EX-11", "a-1", "ex-10", "ex-2"]


def test_lines_of_a_patient_follow_their_line_numbers_and_endpoints_pfs_before_os(site_a, tmp_path):
    make_derived_patient(site_a, "P-1")

    lines = export_records(tmp_path, "lines")
    endpoints = export_records(tmp_path, "endpoints")

    assert [line["line_no"] for line in lines] == ["1", "2"]
    assert [(row["line_no"], row["paramcd"]) for row in endpoints] == [
        ("1", "PFS"), ("1", "OS"), ("2", "PFS"), ("2", "OS"),
    ]


@pytest.mark.parametrize("name", DATASETS)
def test_a_coordinator_of_site_a_gets_none_of_site_b_rows(site_a, site_b, coordinator_a, tmp_path, name):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")

    records = export_records(tmp_path, name, user=coordinator_a)

    assert records
    assert {record["record_id"] for record in records} == {"A-1"}


def test_a_coordinator_asking_for_another_site_gets_nothing(site_a, site_b, coordinator_a, tmp_path):
    make_derived_patient(site_b, "B-1")

    assert export_records(tmp_path, "lines", user=coordinator_a, site=site_b) == []


def test_a_user_without_a_role_gets_nothing(site_a, tmp_path):
    make_derived_patient(site_a, "A-1")
    nobody = factories.make_user("nobody")

    assert export_records(tmp_path, "patients", user=nobody) == []


def test_the_system_and_an_investigator_get_every_site_or_the_one_asked_for(site_a, site_b, tmp_path):
    make_derived_patient(site_a, "A-1")
    make_derived_patient(site_b, "B-1")
    investigator = factories.make_user("investigator", role=Role.INVESTIGATOR)
    # Identified exports need the grant (tests/exports/test_export_permissions.py); this is about sites.
    RegistryRole.objects.filter(user=investigator).update(may_export_identified=True)

    everyone = export_records(tmp_path, "patients")
    seen_by_investigator = export_records(tmp_path, "patients", user=investigator)
    only_b = export_records(tmp_path, "patients", site=site_b)

    assert [(row["record_id"], row["site"]) for row in everyone] == [("A-1", "site-a"), ("B-1", "site-b")]
    assert [row["record_id"] for row in seen_by_investigator] == ["A-1", "B-1"]
    assert [row["record_id"] for row in only_b] == ["B-1"]
