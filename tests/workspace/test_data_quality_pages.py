"""The data-quality pages for every role of the matrix (tests/access_roles.py): who reads them, whose
hits each user sees, who runs the rules, verifies a hit and writes a custom rule; and the refusal of
a custom rule naming two repeating instruments at this door."""
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from registry.models import Query, QualityRule, QualityRuleHit, QualityRuleRun, QueryState, SoftCheckConfirmation
from registry.services.data_quality import quality_rules_run
from registry.workspace.views.data_quality import query_link
from tests.access_roles import CASES, IDENTIFIED, ROLES, SEES, roles, user_for, world  # noqa: F401 (world is a fixture)

RUNNERS = {"administrator", "data manager"}  # Capability.RUN_RULES
# The roles shown the pages (the test of the rules page checks that the others are refused them).
identified_readers = pytest.mark.parametrize("role", [role for role in ROLES if role in IDENTIFIED])


@pytest.fixture
def every_record_rule(world):
    """A custom rule that holds on every record with a sex: one hit per record, P-A and P-B."""
    return QualityRule.objects.create(name="Every record", logic='[sex] <> ""')


@pytest.fixture
def run(world, every_record_rule):
    return quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)


@roles
def test_the_rules_page_is_shown_to_roles_that_see_identified_data(client, world, run, role):
    client.force_login(user_for(role, world, "reader"))

    response = client.get(reverse("workspace:quality"))

    assert response.status_code == (200 if role in IDENTIFIED else 403)


@identified_readers
def test_a_rule_s_hits_are_listed_for_the_sites_the_user_sees_only(client, world, run, every_record_rule, role):
    client.force_login(user_for(role, world, "reader"))
    page = reverse("workspace:quality_rule", args=[every_record_rule.code])

    listed = {site: client.get(page, {"site": world.sites[site].code}).content.decode() for site in ("A", "B")}

    for site in ("A", "B"):
        record = world.patients[site].record_id
        assert (f">{record}</a>" in listed[site]) is (site in SEES[role]), site
        assert (f">{record}</a>" in listed["A"] + listed["B"]) is (site in SEES[role])


@roles
def test_only_the_run_rules_right_runs_the_rules_from_the_page(client, world, every_record_rule, role,
                                                               django_capture_on_commit_callbacks):
    client.force_login(user_for(role, world, "runner"))

    with django_capture_on_commit_callbacks(execute=True):  # the queued task runs in-process (no broker)
        response = client.post(reverse("workspace:quality_run"))

    if role in RUNNERS:
        assert response.status_code == 302
        assert QualityRuleRun.objects.get().trigger == "workspace"
    else:
        assert response.status_code == 403
        assert not QualityRuleRun.objects.exists()


@roles
def test_only_the_run_rules_right_verifies_a_hit(client, world, run, role):
    client.force_login(user_for(role, world, "verifier"))
    hit = run.hits.get(record_id="P-B", rule__startswith="custom-")

    response = client.post(reverse("workspace:quality_hit_verify", args=[hit.pk]), {"next": "/quality/"})

    if role in RUNNERS:
        assert response.status_code == 302
        hit.refresh_from_db()
        assert hit.verified is True
        assert SoftCheckConfirmation.objects.get().check_code == f"rule-{hit.rule}"
    else:
        assert response.status_code in (403, 404)
        assert not SoftCheckConfirmation.objects.exists()


@roles
def test_only_the_run_rules_right_writes_custom_rules(client, world, role):
    client.force_login(user_for(role, world, "writer"))

    response = client.post(reverse("workspace:quality_rule_new"),
                           {"name": "Scan after death", "logic": "[ta_date] > [death_date]", "active": "on"})

    if role in RUNNERS:
        assert response.status_code == 302
        assert QualityRule.objects.get().logic == "[ta_date] > [death_date]"
    else:
        assert response.status_code == 403
        assert not QualityRule.objects.exists()


def test_a_custom_rule_naming_two_repeating_instruments_is_refused_on_the_form(client, world):
    client.force_login(user_for("data manager", world, "writer"))

    response = client.post(reverse("workspace:quality_rule_new"),
                           {"name": "Scan before line", "logic": "[ta_date] < [line_start]", "active": "on"})

    assert response.status_code == 400
    assert "2 repeating instruments (treatment_line, tumor_assessment)" in response.content.decode()
    assert not QualityRule.objects.exists()


def test_a_hit_s_query_link_names_its_record_form_instance_field_and_finding(world, run):
    hit = run.hits.get(record_id="P-B", rule__startswith="custom-")
    base = reverse("workspace:query_new", args=["P-B"])

    # The custom rule's hit is on the enrollment form (no instance), field sex; the question is the
    # rule's name and the hit's finding.
    assert query_link(hit, "/quality/", "Every record") == base + "?" + urlencode({
        "form": "enrollment", "field": "sex", "text": f"Every record: {hit.message}", "next": "/quality/"})


def test_one_click_on_a_hit_opens_a_query_on_its_field_with_the_rule_and_finding_as_question(client, world, run):
    hit = run.hits.get(record_id="P-B", rule__startswith="custom-")
    data_manager = user_for("data manager", world, "reader")
    client.force_login(data_manager)

    response = client.post(reverse("workspace:quality_hit_query", args=[hit.pk]))

    query = Query.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("workspace:query", args=[query.pk])
    assert (query.patient.record_id, query.form, query.instance_number, query.field, query.state, query.opened_by) == (
        "P-B", "enrollment", None, "sex", QueryState.OPEN, data_manager)
    assert list(query.messages.values_list("text", flat=True)) == [f"Every record: {hit.message}"]


def test_a_derivation_flag_about_a_repeating_instrument_opens_a_query_on_the_record(client, world, run):
    # A flag names a repeating instrument but no instance ("two assessments on the same date"): the
    # query is about the record, as no one instance is wrong.
    hit = QualityRuleHit.objects.create(run=run, rule="flag-assessments_same_date", patient=world.patients["B"],
                                        site=world.sites["B"], record_id=world.patients["B"].record_id,
                                        form="tumor_assessment", instance=None, field="", value="",
                                        message="Two assessments on 2022-03-01.")
    client.force_login(user_for("administrator", world, "reader"))

    client.post(reverse("workspace:quality_hit_query", args=[hit.pk]))

    assert Query.objects.values_list("form", "instance_number", "field").get() == ("", None, "")


def test_a_hit_on_an_instance_deleted_since_the_run_opens_nothing_and_says_why(client, world, run):
    hit = QualityRuleHit.objects.create(run=run, rule="A", patient=world.patients["B"], site=world.sites["B"],
                                        record_id=world.patients["B"].record_id, form="treatment_line",
                                        instance=99, field="line_ecog", value="", message="Blank value.")
    client.force_login(user_for("data manager", world, "reader"))

    response = client.post(reverse("workspace:quality_hit_query", args=[hit.pk]), {"next": "/quality/A/"}, follow=True)

    assert response.redirect_chain[0] == ("/quality/A/", 302)
    assert f"Record {hit.record_id} has no instance 99 of treatment_line." in response.content.decode()
    assert not Query.objects.exists()


@pytest.mark.parametrize("next_url", ["https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example/"])
def test_after_verifying_a_hit_the_page_goes_back_only_to_a_path_of_this_site(client, world, run, next_url):
    hit = run.hits.get(record_id="P-B", rule__startswith="custom-")
    client.force_login(user_for("data manager", world, "reader"))

    response = client.post(reverse("workspace:quality_hit_verify", args=[hit.pk]), {"next": next_url})

    assert response["Location"] == reverse("workspace:quality")


@roles
def test_only_who_may_open_queries_opens_one_from_a_hit_and_a_refusal_writes_nothing(client, world, run, role):
    hit = run.hits.get(record_id="P-B", rule__startswith="custom-")  # at site B
    client.force_login(user_for(role, world, "reader"))

    response = client.post(reverse("workspace:quality_hit_query", args=[hit.pk]))

    # The page's door first (identified readers only: 403), then the site (unseen: 404), then the right.
    may_open = role in {"administrator", "data manager"}
    expected = 302 if may_open else 403 if role not in IDENTIFIED else 404 if "B" not in SEES[role] else 403
    assert response.status_code == expected
    assert Query.objects.count() == (1 if may_open else 0)


@identified_readers
def test_a_hit_offers_a_query_only_to_who_may_open_one(client, world, run, every_record_rule, role):
    # Capability.OPEN_QUERY: administrators, data managers and investigators; a coordinator answers
    # queries and never opens them, so their hits page has no "Query" link.
    client.force_login(user_for(role, world, "reader"))
    page = reverse("workspace:quality_rule", args=[every_record_rule.code])

    content = client.get(page, {"site": world.sites["A"].code}).content.decode()

    # Of the roles shown the page (identified readers), those who open queries: administrator and data manager.
    assert ('href="/queries/new/' in content) is (role in {"administrator", "data manager"})


def test_an_unknown_rule_answers_404(client, world):
    client.force_login(user_for("data manager", world, "reader"))

    assert client.get(reverse("workspace:quality_rule", args=["Z"])).status_code == 404


def test_the_rules_page_counts_each_rule_s_hits_with_two_queries_after_the_session(client, world, run,
                                                                                   django_assert_num_queries):
    client.force_login(user_for("data manager", world, "reader"))
    client.get(reverse("workspace:quality"))  # warms the session and the user

    # session, user, role (access_for), latest done run, last run, custom rules (rule_summaries),
    # grouped hit counts, custom rules listed on the page.
    with django_assert_num_queries(8):
        response = client.get(reverse("workspace:quality"))
    assert response.status_code == 200


def test_a_rule_s_page_lists_a_site_s_hits_with_a_fixed_number_of_queries(client, world, run,
                                                                          every_record_rule,
                                                                          django_assert_num_queries):
    client.force_login(user_for("data manager", world, "reader"))
    page = reverse("workspace:quality_rule", args=[every_record_rule.code])
    client.get(page)

    # session, user, role (access_for), latest done run, hits counted per site, the chosen site's
    # hits, the custom rule's name (the page title).
    with django_assert_num_queries(7):
        response = client.get(page, {"site": "site-b"})
    assert response.status_code == 200
    assert ">P-B</a>" in response.content.decode()
