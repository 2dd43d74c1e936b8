"""The paper's figures stand in the study report as the paper prints them, and the report marks in
red (class "differs") each one the registry does not reproduce.

Every expected value is typed here from the paper's Results, Tables 1 and 3 and the legends of
Figs. 5 and 6 (Wu et al., J Transl Med 2024;22:582), a second typing independent of
registry/reports/published.py: where the two disagree one of them has a typo.
"""
import re

import pytest

from registry.reports import published
from registry.reports.study_report import _matches, _median_matches, study_report, study_report_html

pytestmark = pytest.mark.django_db


def _by_key(rows):
    return {row["key"]: row for row in rows}


def _section(page: str, figure: str) -> str:
    """The HTML of one survival comparison: from its heading to the next one's."""
    start = page.index(f"<h3>{figure}.")
    following = page.find("<h3>", start + 1)
    return page[start:following if following != -1 else None]


def _published_spans(section: str) -> list[tuple[bool, str]]:
    """(marked as differing, text) of each published value, in page order."""
    return [("differs" in classes, text.strip())
            for classes, text in re.findall(r'<span class="(published[^"]*)">(.*?)</span>', section, re.S)]


def test_figs_6a_and_6b_carry_the_medians_p_values_and_hazard_ratios_the_results_print():
    # Results, Fig. 6A: PFS 6.9 months (chemotherapy, n = 31) and 2.7 months (ALK-TKI, n = 13),
    # HR 0.6 (95 % CI 0.25-1.17), p = 0.124. Fig. 6B: OS 16.3 and 11.9 months, HR 0.81 (0.35-1.80),
    # p = 0.585. Printed "0.6" stays "0.6" (not "0.60"), "1.80" keeps its zero.
    assert published.SURVIVAL["fig6a"] == {"groups": (31, 13), "medians": ("6.9", "2.7"), "p": "0.124",
                                           "hr": ("0.6", "0.25", "1.17")}
    assert published.SURVIVAL["fig6b"] == {"groups": (31, 13), "medians": ("16.3", "11.9"), "p": "0.585",
                                           "hr": ("0.81", "0.35", "1.80")}
    # Figs. 6C and 6D: the Results give no number, only "no significant differences"; the legend gives
    # n = 31 and 8.
    for key in ("fig6c", "fig6d"):
        assert published.SURVIVAL[key] == {"groups": (31, 8), "medians": (None, None), "p": None, "hr": None}


def test_published_percentages_are_the_printed_strings_not_recomputed_from_the_counts(db):
    report = study_report()  # an empty registry: every published figure is still there

    table_1 = _by_key(report["table_1"]["rows"])
    # Table 1 prints 11 (20.7%) and 42 (79.3%) of 53 at the crizotinib stage, though 11/53 = 20.75 %
    # and 42/53 = 79.245 % round half up to 20.8 and 79.2; 4 (7.6%) of 53 after it (4/53 = 7.547 %
    # gives 7.5) and 49 (92.4%) (49/53 = 92.45 % gives 92.5).
    assert table_1["cns_metastases"]["values"]["cohort_2_crizotinib"]["published"] == {"count": 11, "percent": "20.7"}
    assert table_1["no_cns_metastases"]["values"]["cohort_2_crizotinib"]["published"] == {
        "count": 42, "percent": "79.3"}
    assert table_1["age_65_or_over"]["values"]["cohort_2_post_crizotinib"]["published"] == {
        "count": 4, "percent": "7.6"}
    assert table_1["age_under_65"]["values"]["cohort_2_post_crizotinib"]["published"] == {
        "count": 49, "percent": "92.4"}
    # Cohort 1's column prints whole percentages, "10 (50%)", and "0" with no percentage at all.
    assert table_1["male"]["values"]["cohort_1"]["published"] == {"count": 10, "percent": "50"}
    assert table_1["other_histology"]["values"]["cohort_1"]["published"] == {"count": 0, "percent": None}

    table_3 = _by_key(report["table_3"]["rows"])
    # Table 3: cohort 1 "18 (90%)" and "2 (10%)"; cohort 2 "44 (83.0%)"; all "18 (43.9%)" dead
    # without chemotherapy.
    assert table_3["subsequent_treatment"]["values"]["cohort_1"]["yes"]["published"] == {"count": 18, "percent": "90"}
    assert table_3["subsequent_treatment"]["values"]["cohort_1"]["no"]["published"] == {"count": 2, "percent": "10"}
    assert table_3["subsequent_alk_tki"]["values"]["cohort_2"]["yes"]["published"] == {"count": 44, "percent": "83.0"}
    assert table_3["chemotherapy_in_dead"]["values"]["all"]["no"]["published"] == {"count": 18, "percent": "43.9"}

    # Results: "56.8%, 25/44" and "27.2%, 12/44" (12/44 = 27.27 %, which rounds to 27.3).
    findings = _by_key(report["resistance_mechanisms"]["findings"])
    assert (findings["alk_kd_mutation"]["published"], findings["alk_kd_mutation"]["published_percent"]) == (25, "56.8")
    assert (findings["g1202r"]["published"], findings["g1202r"]["published_percent"]) == (12, "27.2")
    assert findings["compound"]["published_percent"] is None  # the Results give n = 3 only
    # "approximately 50% (20/40)": printed "50", not "50.0".
    assert report["progression_patterns"]["local_therapy_for_oligo"]["published"] == {
        "treated": 20, "oligo": 40, "percent": "50"}


def test_a_shown_number_matches_the_printed_one_as_a_number():
    # The paper drops trailing zeros: its HR "0.6" is the report's "0.60", its p "0.05" the report's "0.050".
    assert _matches("0.60", "0.6") is True
    assert _matches("0.050", "0.05") is True
    assert _matches("0.62", "0.6") is False
    assert _matches("0.162", "0.124") is False
    assert _matches(None, "0.124") is False  # not estimable in the registry, printed in the paper
    assert _matches("0.162", None) is None  # nothing printed: nothing to compare
    # "NR" (the paper's "NA", "not achieved"): a group with patients whose curve never falls to one half.
    assert _median_matches(22, None, "NR") is True
    assert _median_matches(22, "30.1", "NR") is False
    assert _median_matches(0, None, "NR") is False  # no patients is no median at all
    assert _median_matches(13, "2.7", "2.7") is True
    assert _median_matches(31, "23.4", "16.3") is False
    assert _median_matches(31, "6.9", None) is None


def test_an_empty_registry_marks_every_printed_survival_figure_as_differing_and_none_not_printed(db):
    page = study_report_html(study_report())

    # Nothing derived: n = 0, no median, no p, no HR, against every Fig. 6A and 6B figure the paper prints.
    assert _published_spans(_section(page, "Fig. 6A")) == [
        (True, "31"), (True, "6.9"), (True, "13"), (True, "2.7"), (True, "0.124"), (True, "0.6 (0.25–1.17)")]
    assert _published_spans(_section(page, "Fig. 6B")) == [
        (True, "31"), (True, "16.3"), (True, "13"), (True, "11.9"), (True, "0.585"), (True, "0.81 (0.35–1.80)")]
    # Fig. 6C: only the legend's n is printed; a figure the paper does not give is never red.
    assert _published_spans(_section(page, "Fig. 6C")) == [
        (True, "31"), (False, "not published"), (True, "8"), (False, "not published"), (False, "not published"),
        (False, "not published")]
    # Table 1's printed percentage beside the registry's count
    assert '<span class="published differs">11 (20.7 %)</span>' in page


def test_the_demo_report_shows_the_papers_fig_6_figures_beside_its_own(demo_cohort_loaded):
    report = study_report()
    page = study_report_html(report)
    comparisons = _by_key(report["survival"])

    # The demo cohort is built to give Fig. 6A's n (31, 13) and medians (6.9 and 2.7 months, as the
    # paper prints them): none of the four is red.
    assert [(group["n"], group["median_months"]) for group in comparisons["fig6a"]["groups"]] == [
        (31, "6.9"), (13, "2.7")]
    spans = _published_spans(_section(page, "Fig. 6A"))
    assert spans[:4] == [(False, "31"), (False, "6.9"), (False, "13"), (False, "2.7")]
    # Its p and HR stand beside the paper's, red exactly when the numbers shown differ.
    log_rank, cox = comparisons["fig6a"]["log_rank"], comparisons["fig6a"]["cox"]
    assert spans[4] == (float(log_rank["p_rounded"]) != 0.124, "0.124")
    shown_cox = (float(cox["hazard_ratio"]), float(cox["ci"][0]), float(cox["ci"][1]))
    assert spans[5] == (shown_cox != (0.60, 0.25, 1.17), "0.6 (0.25–1.17)")
    # Fig. 6B: the same figures and the paper's OS medians 16.3 and 11.9 months.
    spans = _published_spans(_section(page, "Fig. 6B"))
    assert [text for _, text in spans] == ["31", "16.3", "13", "11.9", "0.585", "0.81 (0.35–1.80)"]
    chemotherapy, tki = comparisons["fig6b"]["groups"]
    assert spans[1][0] == (chemotherapy["median_months"] != "16.3")
    assert spans[3][0] == (tki["median_months"] != "11.9")
