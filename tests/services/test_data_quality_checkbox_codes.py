"""Data-quality rules and a checkbox field's missing-data code (issue 12 §3 rules A and I, §4): a coded
checkbox is not blank (no rule A hit), rule I lists it with its code, and a custom rule reads its options
as blank, as it reads any coded field."""
from registry.models import QualityRule, QualityRuleRun
from registry.services.data_quality import quality_rules_run
from tests import factories


def _hits(run, rules=None) -> set:
    hits = set(run.hits.values_list("rule", "record_id", "form", "field", "value"))
    return {hit for hit in hits if rules is None or hit[0] in rules}


def test_a_coded_checkbox_is_rule_i_and_not_a_blank_of_rule_a(site_a):
    coded = factories.make_patient(site_a, "CB-1", alk_method_missing="UNK")
    factories.make_assessment(coded, ta_scope_missing="ND")
    unticked = factories.make_patient(site_a, "CB-2")  # no option ticked, no code: blank (rule A)
    factories.make_assessment(unticked, ta_scope_1=True)

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    assert {hit for hit in _hits(run, {"A"}) if hit[3] in ("alk_method", "ta_scope")} == {
        ("A", "CB-2", "enrollment", "alk_method", "")}
    assert _hits(run, {"I"}) == {("I", "CB-1", "enrollment", "alk_method", "UNK"),
                                 ("I", "CB-1", "tumor_assessment", "ta_scope", "ND")}


def test_a_custom_rule_reads_a_coded_checkboxs_options_as_blank(site_a):
    factories.make_patient(site_a, "CB-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "CB-2")
    rule = QualityRule.objects.create(name="FISH not ticked", logic="[alk_method(2)] = '0'")

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    # CB-2's option is unticked (0); CB-1's is blank (its field holds a code), so the rule does not hold.
    assert {hit[1] for hit in _hits(run, {rule.code})} == {"CB-2"}


def test_a_custom_rule_names_a_checkbox_code_as_redcap_does(site_a):
    factories.make_patient(site_a, "CB-1", alk_method_missing="UNK")
    factories.make_patient(site_a, "CB-2", alk_method_missing="NI")
    factories.make_patient(site_a, "CB-3", alk_method_1=True)
    rule = QualityRule.objects.create(name="ALK method unknown", logic="[alk_method(UNK)] = '1'")

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)

    assert {hit[1] for hit in _hits(run, {rule.code})} == {"CB-1"}
