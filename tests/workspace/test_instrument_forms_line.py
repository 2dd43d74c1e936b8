"""The treatment line page: a line with the lesions selected at its baseline, saved together, and the
steps every instrument page shares (branching logic, values left in hidden fields, soft checks, a
change made meanwhile), shown on this page."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from registry.models import Lesion, Role, SoftCheckConfirmation, TreatmentLine
from registry.services.instances import instance_save
from tests import factories
from tests.workspace.instrument_pages import (
    instance_url, messages_of, page_data, record_url, rows_data, shown_values, version_of,
)

pytestmark = pytest.mark.django_db

# A second line (ceritinib, an ALK TKI) started 2021-05-01, before any "today" of these tests.
LINE_2 = {"line_no": "2", "line_type": "1", "line_drug": "3", "line_start": "2021-05-01",
          "treatment_line_complete": "0"}


@pytest.fixture
def patient(site_a):
    patient = factories.make_patient(site_a, "ABC-003")
    factories.make_line(patient)  # line 1
    return patient



def _line_count(patient) -> tuple[int, int]:
    return TreatmentLine.objects.filter(patient=patient).count(), Lesion.objects.filter(patient=patient).count()


def test_coordinator_adds_a_line_with_two_baseline_lesions(client, patient, coordinator):
    before = version_of(patient)
    data = page_data(patient, LINE_2) | rows_data(
        "lesions", [{"les_class": "1", "les_site": "8"}, {"les_class": "2", "les_site": "9"}, {}])

    response = client.post(instance_url(patient, "treatment_line"), data)

    assert (response.status_code, response["Location"]) == (302, record_url(patient))
    assert messages_of(response) == ["Treatment line 2 of ABC-003 saved: 2 baseline lesions added."]
    line = TreatmentLine.objects.get(patient=patient, line_no=2)
    assert (line.redcap_repeat_instance, line.line_drug, line.line_start) == (2, 3, date(2021, 5, 1))
    # Proposed identifiers: the first target and the first non-target of line 2; the empty third row is ignored.
    assert list(Lesion.objects.filter(patient=patient).values_list("les_id", "les_line", "les_class", "les_site")) == [
        ("L2-N1", 2, 2, 9), ("L2-T1", 2, 1, 8)]
    for model in (TreatmentLine, Lesion):
        history = model.history.filter(patient=patient, les_line=2) if model is Lesion else model.history.filter(
            patient=patient, line_no=2)
        assert {(row.history_change_reason, row.history_user) for row in history} == {("workspace", coordinator)}
    assert version_of(patient) != before


def test_a_line_ending_before_it_starts_shows_the_error_beside_the_field_and_in_the_summary(
        client, patient, coordinator):
    before = version_of(patient)
    data = page_data(patient, LINE_2 | {"line_end": "2021-04-30", "line_end_reason": "1"}) | rows_data(
        "lesions", [{"les_class": "1", "les_site": "8"}])

    response = client.post(instance_url(patient, "treatment_line"), data)

    assert response.status_code == 200
    html = response.content.decode()
    message = "The line cannot end (2021-04-30) before it starts (2021-05-01)."
    assert f'<p class="error-text" id="id_line_end_error">{message}</p>' in html
    assert f'<a href="#id_line_end">End date (blank while ongoing): {message}</a>' in html
    assert 'id="error-summary"' in html
    # What was typed stays on the page; nothing was written.
    assert 'value="2021-04-30"' in html
    assert _line_count(patient) == (1, 0)
    assert version_of(patient) == before


def test_a_lesion_row_with_an_error_is_named_in_the_summary_and_nothing_is_written(client, patient, coordinator):
    data = page_data(patient, LINE_2) | rows_data("lesions", [{"les_class": "1"}])  # no site

    response = client.post(instance_url(patient, "treatment_line"), data)

    html = response.content.decode()
    assert '<a href="#id_lesions-0-les_site">Baseline lesion row 1 — Site: This field is required.</a>' in html
    assert _line_count(patient) == (1, 0)


def test_a_lesion_identifier_taken_by_another_line_is_refused(client, patient, coordinator):
    factories.make_lesion(patient, "L1-T1", les_line=1)
    data = page_data(patient, LINE_2) | rows_data("lesions", [{"les_id": "L1-T1", "les_class": "1", "les_site": "8"}])

    response = client.post(instance_url(patient, "treatment_line"), data)

    assert "This patient already has a lesion with this identifier." in response.content.decode()
    assert _line_count(patient) == (1, 1)


def test_other_regimen_shows_only_when_the_regimen_is_other(client, patient, coordinator):
    url = instance_url(patient, "treatment_line")
    page = client.get(url).content.decode()
    assert '<div class="field" id="field-line_drug_other" data-field="line_drug_other" hidden>' in page

    def hidden_after_change(values):
        response = client.post(url, page_data(patient, LINE_2 | values) | rows_data("lesions", [])
                               | {"_branching": "1"})
        return response.content.decode()

    assert "line_drug_other" in hidden_after_change({"line_drug": "3"})
    assert "line_drug_other" not in hidden_after_change({"line_drug": "99"})
    # line_end_reason appears once the line has an end date.
    assert "line_end_reason" in hidden_after_change({})
    assert "line_end_reason" not in hidden_after_change({"line_end": "2022-01-01"})
    assert _line_count(patient) == (1, 0)  # asking which fields to hide writes nothing


def test_a_variant_kind_shows_its_own_detail_in_its_row_only(client, site_a, coordinator):
    patient = factories.make_patient(site_a, "ABC-004")
    data = page_data(patient, {"bx_date": "2022-01-25", "bx_specimen": "1", "biopsy_complete": "0"}) | rows_data(
        "variants", [{"var_gene": "ALK", "var_kind": "1"}, {"var_gene": "MET", "var_kind": "2"}]) | {"_branching": "1"}

    response = client.post(instance_url(patient, "biopsy"), data)

    hidden = response.content.decode().split('data-hidden="')[1].split('"')[0].split()
    assert "variants-0-var_protein" not in hidden and "variants-0-var_cn" in hidden
    assert "variants-1-var_cn" not in hidden and "variants-1-var_protein" in hidden
    assert "bx_ngs_panel" in hidden  # NGS not said to be done


def test_a_value_left_in_a_hidden_field_is_offered_for_deletion_then_cleared(client, patient, coordinator):
    url = instance_url(patient, "treatment_line")
    # Typed while the regimen was "Other", then the regimen was changed to ceritinib.
    data = page_data(patient, LINE_2 | {"line_drug_other": "Trial drug X"}) | rows_data("lesions", [])

    asked = client.post(url, data)

    html = asked.content.decode()
    assert "These fields no longer apply to the answers above, but still hold a value:" in html
    assert "Other regimen, specify." in html
    assert _line_count(patient) == (1, 0)

    saved = client.post(url, data | {"hidden_values": "clear"})

    assert saved.status_code == 302
    line = TreatmentLine.objects.get(patient=patient, line_no=2)
    assert (line.line_drug, line.line_drug_other) == (3, "")


def test_a_future_start_date_asks_first_and_the_confirmation_is_stored(client, patient, coordinator):
    url = instance_url(patient, "treatment_line")
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = page_data(patient, LINE_2 | {"line_start": tomorrow.isoformat()}) | rows_data("lesions", [])

    asked = client.post(url, data)

    (check,) = asked.context["save"].asking
    assert (check.code, check.field) == ("future_date", "line_start")
    assert f'name="confirm_check" value="{check.key}"' in asked.content.decode()
    assert _line_count(patient) == (1, 0)
    assert not SoftCheckConfirmation.objects.exists()

    saved = client.post(url, data | {"confirm_check": check.key})

    assert saved.status_code == 302
    line = TreatmentLine.objects.get(patient=patient, line_no=2)
    confirmation = SoftCheckConfirmation.objects.get()
    assert (confirmation.form, confirmation.instance, confirmation.field, confirmation.check_code,
            confirmation.value) == ("treatment_line", line.redcap_repeat_instance, "line_start", "future_date",
                                    tomorrow.isoformat())
    assert (confirmation.confirmed_by, confirmation.door) == (coordinator, "workspace")
    assert confirmation.confirmed_at is not None


def test_saving_over_a_change_made_meanwhile_writes_nothing_names_who_and_keeps_what_was_typed(
        client, patient, coordinator, site_a):
    line = TreatmentLine.objects.get(patient=patient)
    url = instance_url(patient, "treatment_line", line.redcap_repeat_instance)
    loaded = shown_values(client.get(url))
    # Meanwhile a colleague records the line's end.
    colleague = factories.make_user("colleague", role=Role.COORDINATOR, sites=[site_a])
    line.line_end, line.line_end_reason = date(2021, 1, 31), 1
    instance_save(instance=line, user=colleague, door="workspace")

    refused = client.post(url, loaded | {"line_ecog": "1"})

    html = refused.content.decode()
    assert "Not saved: this record was changed while you were editing it" in html
    assert "<strong>colleague</strong>" in html
    assert '<option value="1" selected>1</option>' in html  # the ECOG typed is kept
    line.refresh_from_db()
    assert (line.line_ecog, line.line_end) == (None, date(2021, 1, 31))

    # Saving again, from the page as it came back (now carrying the current version), applies the entry.
    again = client.post(url, shown_values(refused))

    assert again.status_code == 302
    line.refresh_from_db()
    assert line.line_ecog == 1


def test_renumbering_a_line_carries_its_lesions_and_deletes_a_ticked_one(client, patient, coordinator):
    line = TreatmentLine.objects.get(patient=patient)
    kept = factories.make_lesion(patient, "L1-T1", les_line=1)
    dropped = factories.make_lesion(patient, "L1-N1", les_line=1, les_class=2)
    other_line = factories.make_lesion(patient, "L2-T1", les_line=2)  # not this line's: not on its page
    url = instance_url(patient, "treatment_line", line.redcap_repeat_instance)
    shown = shown_values(client.get(url))
    assert "lesions-2-les_id" not in shown and shown["lesions-INITIAL_FORMS"] == "2"
    rows = {shown[f"lesions-{n}-les_id"]: n for n in range(2)}

    response = client.post(url, shown | {"line_no": "3", f"lesions-{rows['L1-N1']}-DELETE": "on"})

    assert messages_of(response) == [
        "Treatment line 3 of ABC-003 saved: 1 baseline lesion changed, 1 baseline lesion deleted."]
    kept.refresh_from_db()
    other_line.refresh_from_db()
    assert (kept.les_id, kept.les_line) == ("L1-T1", 3)
    assert other_line.les_line == 2
    assert not Lesion.objects.filter(pk=dropped.pk).exists()
    assert Lesion.history.filter(id=dropped.pk, history_type="-").get().history_user == coordinator


def _page_queries(client, patient) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    line = TreatmentLine.objects.get(patient=patient, line_no=1)
    url = instance_url(patient, "treatment_line", line.redcap_repeat_instance)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_line_page_reads_as_many_queries_for_many_lesions_as_for_one(client, patient, coordinator):
    factories.make_lesion(patient, "L1-T1")
    one = _page_queries(client, patient)
    for number in range(2, 6):
        factories.make_lesion(patient, f"L1-T{number}")

    assert len(_page_queries(client, patient)) == len(one)
