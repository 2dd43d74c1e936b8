"""Data-quality rules and required fields that take a missing-data code (issue 12 §3 rule B, §4 follow-up):
a coded required field is not blank (no B, no A hit) and is listed by rule I with its code."""
from registry.models import QualityRuleRun
from registry.services.data_quality import quality_rules_run
from tests import factories


def test_a_coded_required_field_is_rule_i_and_not_a_blank_required_field_of_rule_b(site_a):
    patient = factories.make_patient(site_a, "RQ-1", sex=None, sex_missing="UNK")
    factories.make_line(patient, line_drug=None, line_drug_missing="ND")

    run = quality_rules_run(trigger=QualityRuleRun.Trigger.COMMAND)
    hits = set(run.hits.values_list("rule", "record_id", "form", "field", "value"))

    assert not {hit for hit in hits if hit[0] in ("A", "B") and hit[3] in ("sex", "line_drug")}
    assert {hit for hit in hits if hit[0] == "I"} == {
        ("I", "RQ-1", "enrollment", "sex", "UNK"), ("I", "RQ-1", "treatment_line", "line_drug", "ND")}
