"""The study report on the demo cohort reproduces the reference study's published figures.

Every expected value below is typed from the paper (Wu et al., J Transl Med 2024;22:582, as
printed), not from the report: Table 2 prints percentages, so its counts are the
ones those percentages give for the column's n (worked out in registry/reports/published.py).
"""
import io
import json

import pytest
from django.core.management import call_command

from registry.models import Patient, Role
from registry.reports.study_report import study_report
from tests import factories

# Once, on SQLite: the report's statistics are computed in Python from the derived rows; its queries also run
# on PostgreSQL in tests/reports/test_data_cut_report.py.
pytestmark = [pytest.mark.django_db, pytest.mark.one_database("sqlite")]


@pytest.fixture
def demo(demo_cohort_loaded):
    """The demo cohort as `load_demo` leaves it, loaded once per process (tests/demo_world.py)."""


def _by_key(rows):
    return {row["key"]: row for row in rows}


def test_table_2_gives_every_published_count_percentage_and_fisher_p_value(demo, tmp_path):
    output = tmp_path / "report.json"
    call_command("study_report", "--format", "json", "--output", str(output), stdout=io.StringIO())
    report = json.loads(output.read_text(encoding="utf-8"))

    # Table 2: (alectinib n=20, crizotinib n=53, p1, ceritinib n=7, other n=46, p2) as published.
    published = {
        "cns_progression": ((3, 20), (30, 53), "0.002", (6, 7), (18, 46), "0.038"),  # 15.0, 56.6, 85.7, 39.1 %
        "cns_progression_with_cns_metastases": ((1, 6), (8, 11), "0.05", (3, 3), (15, 29), "0.238"),
        "cns_progression_without_cns_metastases": ((2, 14), (22, 42), "0.015", (3, 4), (3, 17), "0.053"),
        "symptomatic_progression": ((8, 20), (27, 53), "0.442", (2, 7), (17, 46), "1"),
        "symptomatic_cns_progression": ((1, 20), (17, 53), "0.016", (2, 7), (4, 46), "0.174"),
    }
    rows = _by_key(report["table_2"]["rows"])
    assert set(rows) == set(published)
    for key, (alectinib, crizotinib, p1, ceritinib, other, p2) in published.items():
        values = rows[key]["values"]
        got = tuple((values[column]["events"], values[column]["n"])
                    for column in ("alectinib", "crizotinib", "ceritinib", "other_2g"))
        assert got == (alectinib, crizotinib, ceritinib, other), key
        # Fisher's exact test, two-sided, at the paper's three decimals.
        assert round(rows[key]["p1"]["value"], 3) == float(p1), key
        assert round(rows[key]["p2"]["value"], 3) == float(p2), key
    assert rows["cns_progression"]["values"]["alectinib"]["percent"] == "15.0"
    assert rows["cns_progression"]["values"]["crizotinib"]["percent"] == "56.6"
    assert rows["symptomatic_cns_progression"]["values"]["other_2g"]["percent"] == "8.7"


def test_table_1_gives_every_published_count(demo):
    report = study_report()
    table = report["table_1"]

    # (cohort 1, cohort 2 crizotinib stage, cohort 2 post-crizotinib stage), Table 1
    published = {
        "male": (10, 30, 30), "female": (10, 23, 23), "age_under_65": (18, 50, 49), "age_65_or_over": (2, 3, 4),
        "adenocarcinoma": (20, 52, 51), "other_histology": (0, 1, 2), "smoker": (6, 15, 15),
        "never_smoker": (14, 38, 38), "ecog_0_1": (9, 41, 31), "ecog_2_or_more": (11, 12, 22),
        "distant_metastasis": (20, 53, 53), "no_distant_metastasis": (0, 0, 0), "cns_metastases": (6, 11, 32),
        "no_cns_metastases": (14, 42, 21),
    }
    columns = ("cohort_1", "cohort_2_crizotinib", "cohort_2_post_crizotinib")
    assert [column["n"] for column in table["columns"]] == [20, 53, 53]
    for key, counts in published.items():
        row = _by_key(table["rows"])[key]
        assert tuple(row["values"][column]["count"] for column in columns) == counts, key
    # Median age (range): 52 (33-76), 49 (20-68), 50 (21-69)
    assert [(table["age"][c]["median"], table["age"][c]["min"], table["age"][c]["max"]) for c in columns] == [
        (52, 33, 76), (49, 20, 68), (50, 21, 69)]


def test_table_3_gives_every_published_count(demo):
    report = study_report()
    table = report["table_3"]

    assert [(column["n"], column["dead"]) for column in table["columns"]] == [(20, 13), (53, 28), (73, 41)]
    # Yes counts for cohort 1, cohort 2, all (Table 3)
    published = {
        "subsequent_treatment": (18, 48, 66), "subsequent_alk_tki": (17, 44, 61),
        "subsequent_third_generation": (11, 29, 40), "chemotherapy": (12, 23, 35), "chemotherapy_in_dead": (8, 15, 23),
    }
    for key, counts in published.items():
        values = _by_key(table["rows"])[key]["values"]
        assert tuple(values[column]["yes"]["count"] for column in ("cohort_1", "cohort_2", "all")) == counts, key
    # The "No" rows are the complements: 2, 5, 7 without subsequent treatment; 5, 13, 18 dead without chemotherapy.
    assert tuple(_by_key(table["rows"])["subsequent_treatment"]["values"][c]["no"]["count"]
                 for c in ("cohort_1", "cohort_2", "all")) == (2, 5, 7)
    assert tuple(_by_key(table["rows"])["chemotherapy_in_dead"]["values"][c]["no"]["count"]
                 for c in ("cohort_1", "cohort_2", "all")) == (5, 13, 18)


def test_resistance_mechanisms_give_fig_2(demo):
    mechanisms = study_report()["resistance_mechanisms"]

    # "47 individuals underwent re-biopsies ... a total of 44 patients underwent subsequent tissue NGS";
    # "secondary mutation in ALK kinase domain (56.8 %, 25/44), with the G1202R mutation ... (12/44)";
    # MET amplification 1, AKAP9-BRAF fusion 1, BRAF V600E 1, KRAS G12A 1, KRAS amplification 2, SCC 2.
    assert (mechanisms["rebiopsied"], mechanisms["sequenced"]) == (47, 44)
    findings = {row["key"]: row["count"] for row in mechanisms["findings"]}
    assert {key: findings[key] for key in (
        "alk_kd_mutation", "g1202r", "compound", "MET_amplification", "BRAF_fusion", "BRAF_V600E", "KRAS_mutation",
        "KRAS_amplification", "transformation")} == {
        "alk_kd_mutation": 25, "g1202r": 12, "compound": 3, "MET_amplification": 1, "BRAF_fusion": 1,
        "BRAF_V600E": 1, "KRAS_mutation": 1, "KRAS_amplification": 2, "transformation": 2}
    assert _by_key(mechanisms["findings"])["alk_kd_mutation"]["percent_of_sequenced"] == "56.8"
    # 44 − 25 − 2 − 6 = 11 with no mechanism identified
    assert mechanisms["categories"] == {"alk_kd_mutation": 25, "transformation": 2, "alk_independent": 6,
                                        "none_identified": 11}


def test_progression_patterns_give_the_published_oligo_progression_and_local_therapy(demo):
    patterns = study_report()["progression_patterns"]

    # "Cohort 1: 30 %, Cohort 2 crizotinib stage: 34.6 %, Cohort 2 post-crizotinib stage: 30.2 %";
    # "local treatment was administered in approximately 50 % (20/40) of cases with oligo-progression"
    assert [patterns["stages"][key]["oligo_percent_of_known"]
            for key in ("cohort_1", "cohort_2_crizotinib", "cohort_2_post_crizotinib")] == ["30.0", "34.6", "30.2"]
    local = patterns["local_therapy_for_oligo"]
    assert (local["treated"], local["oligo"]) == (20, 40)
    assert local["median_months_continued_beyond_pd"] == "6.4"


def test_survival_medians_are_close_to_the_published_ones(demo):
    comparisons = _by_key(study_report()["survival"])

    def medians(key):
        return [(group["n"], group["median_months"]) for group in comparisons[key]["groups"]]

    # Fig. 5A: subsequent ALK-TKI PFS 8.6 vs 2.7 months (n = 22 and 13); 5B: OS not reached vs 11.9;
    # 5C: without compound mutations 10.8 months (n = 19); Fig. 6A: chemotherapy 6.9 months (n = 31).
    assert medians("fig5a") == [(22, "8.6"), (13, "2.7")]
    assert medians("fig5b") == [(22, None), (13, "11.9")]
    assert medians("fig5c") == [(19, "10.8"), (13, "2.7")]
    assert medians("fig6a") == [(31, "6.9"), (13, "2.7")]
    assert [group["n"] for group in comparisons["fig5e"]["groups"]] == [19, 8]
    # Published: log-rank p = 0.021, HR 0.43 (0.15-0.85): the demo's are of the same size and direction.
    assert comparisons["fig5a"]["log_rank"]["p"] < 0.05
    assert 0.3 <= float(comparisons["fig5a"]["cox"]["hazard_ratio"]) <= 0.6
    assert comparisons["fig5a"]["cox"]["ties"] == "efron"


def test_the_report_states_what_it_was_derived_with_and_counts_only_visible_patients(demo):
    report = study_report()
    assert report["derived_with"]["rules_version"] == 2  # rules version 2 (issue 13)
    assert report["derived_with"]["data_cutoff"] == "2024-02-28"
    assert report["derived_with"]["consistent"] is True

    # A coordinator of demo-a sees its 37 patients only (odd record numbers).
    coordinator = factories.make_user("coordinator", role=Role.COORDINATOR,
                                      sites=[Patient.objects.get(record_id="WU-001").site])
    restricted = study_report(user=coordinator)
    assert restricted["derived_with"]["patients_visible"] == 37
    assert restricted["cohorts"]["cohort_1"] + restricted["cohorts"]["cohort_2"] == 37


def test_an_empty_registry_gives_an_empty_report_not_an_error(db):
    report = study_report(figures=True)

    assert report["cohorts"]["cohort_1"] == report["cohorts"]["cohort_2"] == 0
    assert all(group["n"] == 0 for comparison in report["survival"] for group in comparison["groups"])
    assert report["table_2"]["rows"][0]["p1"]["value"] is None
