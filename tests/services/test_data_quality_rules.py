"""Data-quality rules on a seeded dataset with known violations (tests/services/data_quality_world.py):
exactly the hits worked out by hand, the refusal of a rule naming two repeating instruments, and
"verified as correct" holding until the value changes."""
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from registry.models import LesionMeasurement, QualityRule, QualityRuleHit, QualityRuleRun, Role, SoftCheckConfirmation
from registry.services.data_quality import quality_hit_verify, quality_rule_save, quality_rules_run
from registry.services.derivation import patients_derive
from tests import factories
from tests.services import data_quality_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(site_a, site_b):
    built = data_quality_world.build(site_a, site_b)
    patients_derive(patient_ids=[built[name].pk for name in ("p1", "p2", "p3", "p4")])
    return built


@pytest.fixture
def data_manager(db):
    return factories.make_user("data_manager", role=Role.DATA_MANAGER)


# 15 hits, and rule C's on SQLite (data_quality_world.WRONG_TYPE_POSSIBLE)
TOTAL = 15 + data_quality_world.WRONG_TYPE_POSSIBLE


def _hits(run) -> set[tuple]:
    return set(run.hits.values_list("rule", "record_id", "form", "instance", "field", "value"))


def test_the_seeded_dataset_gives_exactly_the_hits_worked_out_by_hand(world):
    custom = {rule.logic: rule.code for rule in world["rules"]}

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    # Each planted fault of data_quality_world.build, and nothing else.
    wrong_type = {("C", "DQ-001", "tumor_assessment", 1, "ta_new_count", "12.5")}  # SQLite only (see the world)
    assert _hits(run) - wrong_type == {
        ("A", "DQ-001", "enrollment", None, "smoking", ""),
        ("A", "DQ-002", "lesion", 2, "les_id", ""),
        ("A", "DQ-004", "vital_status", None, "last_alive_date", ""),
        ("A", "DQ-004", "vital_status", None, "death_date", ""),  # shown: [vital] = '2'
        ("A", "DQ-004", "vital_status", None, "death_cause", ""),
        ("B", "DQ-002", "lesion", 2, "les_id", ""),
        ("D", "DQ-002", "lesion_measurement", 1, "lm_mm", "600"),  # max 500
        ("E", "DQ-003", "lesion", 31, "les_line", "9"),  # 5.57 SD from the mean of 33 values
        ("F", "DQ-001", "treatment_line", 1, "line_drug_other", "Lorlatinib typo"),  # shown only if drug 99
        ("G", "DQ-001", "enrollment", None, "alk_variant", "77"),
        # datediff: 2022-01-01 to 2022-03-01 is 59 days > 30
        (custom[data_quality_world.SCAN_LONG_AFTER_DEATH], "DQ-002", "tumor_assessment", 1, "ta_date",
         "ta_date = 2022-03-01; death_date = 2022-01-01"),
        # arithmetic: 600 - 100 * 5 = 100 < 150
        (custom[data_quality_world.MEASUREMENT_ARITHMETIC], "DQ-002", "lesion_measurement", 1, "lm_mm", "lm_mm = 600"),
        # not: vital 2 is not 1, and 2021-12-01 <> 2022-01-01 (DQ-001 is alive; DQ-004 has both blank)
        (custom[data_quality_world.NOT_ALIVE_LAST_SEEN_BEFORE_DEATH], "DQ-002", "vital_status", None,
         "last_alive_date", "last_alive_date = 2021-12-01; vital = 2; death_date = 2022-01-01"),
        # The derivation's §0 flags: a scan after death, and Dead without a date of death.
        ("flag-date_after_death", "DQ-002", "tumor_assessment", None, "",
         "The assessment date 2022-03-01 is after the date of death 2022-01-01."),
        ("flag-dead_without_death_date", "DQ-004", "vital_status", None, "",
         "Vital status is Dead but the date of death is blank."),
    }
    assert (_hits(run) & wrong_type) == (wrong_type if data_quality_world.WRONG_TYPE_POSSIBLE else set())
    assert (run.status, run.records, run.hit_count) == ("done", 4, TOTAL)


def test_a_stored_missing_data_code_is_rule_i_and_no_longer_a_blank_value_of_rule_a(world):
    # DQ-001's smoking is blank (an A hit above). Coded "ASKU" (asked but unknown), it is no longer blank
    # for rule A, which does not count coded fields, and rule I lists it with its code, read from the
    # stored companion column smoking_missing (issue 12 §3, §4).
    world["p1"].smoking_missing = "ASKU"
    world["p1"].save()

    hits = _hits(quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND))

    assert ("A", "DQ-001", "enrollment", None, "smoking", "") not in hits
    assert {hit for hit in hits if hit[0] == "I"} == {("I", "DQ-001", "enrollment", None, "smoking", "ASKU")}


def test_each_hit_names_its_site(world, site_a, site_b):
    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    sites = dict(run.hits.values_list("record_id", "site__code").distinct())

    assert sites == {"DQ-001": "site-a", "DQ-002": "site-b", "DQ-003": "site-a", "DQ-004": "site-b"}


def test_a_rule_naming_two_repeating_instruments_is_refused_with_its_reason_and_nothing_is_saved(db):
    with pytest.raises(ValidationError) as refused:
        quality_rule_save(user=None, name="Scan before the line", logic="[ta_date] < [line_start]")

    message = refused.value.message_dict["logic"][0]
    assert "2 repeating instruments (treatment_line, tumor_assessment)" in message
    assert QualityRule.objects.count() == 0


def test_a_rule_that_cannot_be_read_is_refused_with_the_parser_s_reason(db):
    with pytest.raises(ValidationError) as refused:
        quality_rule_save(user=None, name="Typo", logic="[ta_date] > [deathdate]")

    assert refused.value.message_dict["logic"] == [
        "The rule's logic names [deathdate], which is not a field of this project"]
    assert QualityRule.objects.count() == 0


def test_a_verified_hit_stays_verified_in_later_runs_until_its_value_changes(world, data_manager):
    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
    hit = run.hits.get(rule="D")

    quality_hit_verify(hit=hit, user=data_manager)
    verified_now = QualityRuleHit.objects.get(pk=hit.pk).verified
    again = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND).hits.get(rule="D")
    LesionMeasurement.objects.filter(patient=world["p2"]).update(lm_mm=650)
    changed = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    assert verified_now is True
    assert (again.value, again.verified) == ("600", True)
    assert (changed.hits.get(rule="D").value, changed.hits.get(rule="D").verified) == ("650", False)
    confirmation = SoftCheckConfirmation.objects.get()
    assert (confirmation.check_code, confirmation.value, confirmation.door, confirmation.confirmed_by) == (
        "rule-D", "600", "data_quality", data_manager)


def test_a_value_confirmed_at_entry_for_the_range_soft_check_is_verified_for_rule_d(world):
    SoftCheckConfirmation.objects.create(patient=world["p2"], form="lesion_measurement", instance=1, field="lm_mm",
                                         check_code="outside_range", value="600", door="workspace")

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    assert run.hits.get(rule="D").verified is True


def test_a_new_run_replaces_the_hits_of_the_previous_one(world):
    first = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
    second = quality_rules_run(trigger=QualityRuleRun.Trigger.NIGHTLY)

    assert first.hits.count() == 0
    assert second.hits.count() == TOTAL


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.INVESTIGATOR, Role.VIEWER])
def test_only_roles_with_the_run_rules_right_run_or_verify(world, site_a, role):
    user = factories.make_user(role=role, sites=[site_a])
    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    with pytest.raises(PermissionDenied):
        quality_rules_run(trigger=QualityRuleRun.Trigger.WORKSPACE, user=user)
    with pytest.raises(PermissionDenied):
        quality_hit_verify(hit=run.hits.get(rule="D"), user=user)
    assert QualityRuleRun.objects.count() == 1
    assert SoftCheckConfirmation.objects.count() == 0


def test_an_inactive_custom_rule_is_not_run(world):
    QualityRule.objects.filter(logic=data_quality_world.MEASUREMENT_ARITHMETIC).update(active=False)

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    assert run.hit_count == TOTAL - 1


def test_the_command_runs_every_rule_and_lists_the_counts(world):
    output = StringIO()

    call_command("run_quality_rules", stdout=output)

    lines = output.getvalue().splitlines()
    custom = sorted(f"{rule.code} 1" for rule in world["rules"])
    wrong_type = ["C 1"] if data_quality_world.WRONG_TYPE_POSSIBLE else []
    assert lines[:-1] == ["A 5", "B 1", *wrong_type, "D 1", "E 1", "F 1", "G 1", *custom,
                          "flag-date_after_death 1", "flag-dead_without_death_date 1"]
    assert f"Ran the data-quality rules on 4 records: {TOTAL} hits" in lines[-1]
    assert QualityRuleRun.objects.get().trigger == "command"


def test_the_nightly_task_is_scheduled_and_runs_the_rules(world, settings):
    from registry.tasks import quality_rules_run_task

    assert settings.CELERY_BEAT_SCHEDULE["run-quality-rules-nightly"]["task"] == "registry.run_quality_rules"
    assert quality_rules_run_task.run() == TOTAL
    assert QualityRuleRun.objects.get().trigger == "nightly"


@pytest.mark.parametrize("patients", [1, 3])
def test_reading_every_record_takes_eight_queries_whatever_their_number(site_a, patients,
                                                                        django_assert_num_queries):
    from registry.models import Patient
    from registry.selectors.data_quality import record_values

    for _ in range(patients):
        factories.make_full_patient(site_a)

    # The patients with their enrollment and vital-status values, then one per repeating instrument:
    # treatment lines, local therapies, tumor assessments, lesions, lesion measurements (joined to
    # their assessment and lesion), biopsies, NGS variants (joined to their biopsy).
    with django_assert_num_queries(8):
        records = list(record_values(Patient.objects.all()))
    assert len(records) == patients
    assert all(len(record.instances) >= 6 for record in records)


def test_a_run_takes_a_fixed_number_of_queries_whatever_the_number_of_records(site_a, django_assert_num_queries):
    for _ in range(3):
        factories.make_full_patient(site_a)
    QualityRule.objects.create(name="Every record", logic='[sex] <> ""')

    # run row (insert), savepoint, custom rules, confirmations, eight record reads, derivation flags,
    # hits written (one bulk insert), older hits deleted, run row (update), savepoint released.
    with django_assert_num_queries(17):
        quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
