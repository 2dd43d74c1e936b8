"""Saving, changing and deleting reports: every name checked against the data dictionary and the filter
read by the filterLogic parser before anything is written; only the owner or an administrator changes one."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.models import Role, SavedReport
from registry.services.saved_reports import saved_report_create, saved_report_delete, saved_report_update
from tests import factories
from tests.saved_report_cases import WOMEN_ON_ALECTINIB


@pytest.fixture
def investigator(db):
    return factories.make_user("investigator", role=Role.INVESTIGATOR)


def test_a_report_keeps_its_fields_in_the_dictionarys_order_and_its_history(coordinator_a):
    report = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)

    report.refresh_from_db()
    # Given line_start, sex, line_drug: the dictionary has sex (enrollment) before line_drug, line_start.
    assert report.fields == ["sex", "line_drug", "line_start"]
    assert report.owner == coordinator_a and report.shared is False
    history = list(report.history.all())
    assert [(row.history_type, row.history_user, row.history_change_reason) for row in history] == [
        ("+", coordinator_a, "report created")]


def test_a_filter_the_parser_cannot_read_is_refused_and_nothing_is_saved(coordinator_a):
    with pytest.raises(ValidationError) as refused:
        saved_report_create(user=coordinator_a, name="Broken", fields=["sex"], filter_logic='[sex] = "2" and')

    assert "[sex] = \"2\" and" in str(refused.value.message_dict["filter_logic"])
    assert "ends too early" in str(refused.value.message_dict["filter_logic"])
    assert SavedReport.objects.count() == 0
    assert SavedReport.history.count() == 0


def test_a_filter_naming_a_field_outside_the_dictionary_is_refused(coordinator_a):
    with pytest.raises(ValidationError) as refused:
        saved_report_create(user=coordinator_a, name="Broken", fields=["sex"], filter_logic="[shoe_size] > 40")

    assert "[shoe_size], which is not a field of this project" in str(refused.value.message_dict["filter_logic"])
    assert SavedReport.objects.count() == 0


def test_unknown_fields_a_missing_name_and_a_sort_outside_the_fields_are_each_named(coordinator_a):
    with pytest.raises(ValidationError) as refused:
        saved_report_create(user=coordinator_a, name=" ", fields=["sex", "favourite_colour"], sort_field="line_start")

    errors = refused.value.message_dict
    assert errors["name"] == ["A report needs a name."]
    assert errors["fields"] == ["Not fields of the data dictionary: 'favourite_colour'."]
    assert errors["sort_field"] == ["The sort field 'line_start' is not one of the report's fields."]
    assert SavedReport.objects.count() == 0


def test_a_checkbox_cannot_be_the_sort_field(coordinator_a):
    with pytest.raises(ValidationError) as refused:
        saved_report_create(user=coordinator_a, name="Methods", fields=["alk_method"], sort_field="alk_method")

    assert "is a checkbox" in refused.value.message_dict["sort_field"][0]
    assert SavedReport.objects.count() == 0


def test_a_user_without_a_role_saves_no_report(db):
    nobody = factories.make_user("nobody")

    with pytest.raises(PermissionDenied):
        saved_report_create(user=nobody, name="Mine", fields=["sex"])

    assert SavedReport.objects.count() == 0


def test_the_owner_changes_a_report_and_a_bad_change_leaves_it_as_it_was(coordinator_a):
    report = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)

    saved_report_update(report=report, user=coordinator_a, values={"shared": True, "sort_direction": "asc"})
    with pytest.raises(ValidationError):
        saved_report_update(report=report, user=coordinator_a, values={"filter_logic": "[sex] === 2"})

    stored = SavedReport.objects.get()
    assert (stored.shared, stored.sort_direction, stored.filter_logic) == (
        True, "asc", WOMEN_ON_ALECTINIB["filter_logic"])
    assert stored.history.count() == 2  # created, changed once


def test_only_the_owner_or_an_administrator_changes_or_deletes_a_report(coordinator_a, investigator, administrator):
    report = saved_report_create(user=coordinator_a, shared=True, **WOMEN_ON_ALECTINIB)

    with pytest.raises(PermissionDenied):
        saved_report_update(report=report, user=investigator, values={"name": "Taken over"})
    with pytest.raises(PermissionDenied):
        saved_report_delete(report=report, user=investigator)
    assert SavedReport.objects.get().name == WOMEN_ON_ALECTINIB["name"]

    saved_report_update(report=report, user=administrator, values={"name": "Checked"})
    saved_report_delete(report=report, user=administrator)
    assert SavedReport.objects.count() == 0
    assert [row.history_type for row in SavedReport.history.order_by("history_id")] == ["+", "~", "-"]


def test_an_administrator_does_not_change_another_users_private_report(coordinator_a, administrator):
    report = saved_report_create(user=coordinator_a, **WOMEN_ON_ALECTINIB)

    with pytest.raises(PermissionDenied):
        saved_report_update(report=report, user=administrator, values={"name": "Seen"})

    assert SavedReport.objects.get().name == WOMEN_ON_ALECTINIB["name"]
