"""The reference study's published figures (Wu et al., J Transl Med 2024;22:582, the text in
../shared/reference/), typed from the paper: what the study report prints beside its own.

Where the paper prints only a percentage, the count is the one that percentage implies for the
column's n (e.g. 15.0 % of 20 = 3); each such count is worked out in a comment. Percentages are
kept as printed (the paper sometimes truncates: 17/46 = 36.96 % is printed 36.9 %).
"""

# --- Table 1: baseline characteristics (counts; median and range of age) -------------------------
TABLE_1_COLUMNS = {
    "cohort_1": "Cohort 1",
    "cohort_2_crizotinib": "Cohort 2 crizotinib stage",
    "cohort_2_post_crizotinib": "Cohort 2 post-crizotinib stage",
}
TABLE_1 = {
    "cohort_1": {
        "n": 20, "male": 10, "female": 10, "age_median": 52, "age_min": 33, "age_max": 76, "age_under_65": 18,
        "age_65_or_over": 2, "adenocarcinoma": 20, "other_histology": 0, "smoker": 6, "never_smoker": 14,
        "ecog_0_1": 9, "ecog_2_or_more": 11, "distant_metastasis": 20, "no_distant_metastasis": 0,
        "cns_metastases": 6, "no_cns_metastases": 14,
    },
    "cohort_2_crizotinib": {
        "n": 53, "male": 30, "female": 23, "age_median": 49, "age_min": 20, "age_max": 68, "age_under_65": 50,
        "age_65_or_over": 3, "adenocarcinoma": 52, "other_histology": 1, "smoker": 15, "never_smoker": 38,
        "ecog_0_1": 41, "ecog_2_or_more": 12, "distant_metastasis": 53, "no_distant_metastasis": 0,
        "cns_metastases": 11, "no_cns_metastases": 42,
    },
    "cohort_2_post_crizotinib": {
        "n": 53, "male": 30, "female": 23, "age_median": 50, "age_min": 21, "age_max": 69, "age_under_65": 49,
        "age_65_or_over": 4, "adenocarcinoma": 51, "other_histology": 2, "smoker": 15, "never_smoker": 38,
        "ecog_0_1": 31, "ecog_2_or_more": 22, "distant_metastasis": 53, "no_distant_metastasis": 0,
        "cns_metastases": 32, "no_cns_metastases": 21,
    },
}
# Percentages as printed in Table 1 (only where they differ from the count's own rounding).
TABLE_1_PRINTED_PERCENT = {
    ("cohort_2_post_crizotinib", "age_under_65"): "92.4",  # 49/53 = 92.45 %
}

# --- Table 2: patterns of ALK-TKI resistance ---------------------------------------------------
TABLE_2_COLUMNS = {
    "alectinib": ("Alectinib", 20),
    "crizotinib": ("Crizotinib", 53),
    "ceritinib": ("Ceritinib", 7),
    "other_2g": ("Other ALK-TKIs", 46),
}
# (events, n, printed %) per column, and the printed p-values: p1 alectinib vs crizotinib, p2
# ceritinib vs the other second-generation TKIs ("The study's p-values are Fisher's", issue 4).
TABLE_2 = {
    "cns_progression": {
        "label": "CNS progression rate in all populations",
        # 15.0 % of 20 = 3; 56.6 % of 53 = 30; 85.7 % of 7 = 6; 39.1 % of 46 = 18
        "alectinib": (3, 20, "15.0"), "crizotinib": (30, 53, "56.6"), "p1": "0.002",
        "ceritinib": (6, 7, "85.7"), "other_2g": (18, 46, "39.1"), "p2": "0.038",
    },
    "cns_progression_with_cns_metastases": {
        "label": "CNS progression rate in patients with baseline CNS metastases",
        # Table 1: 6 with CNS metastases in cohort 1, 11 at crizotinib, 32 after it; 16.7 % of 6 = 1,
        # 72.7 % of 11 = 8, 100 % of the ceritinib ones and 51.7 % of the others: 3 + 29 = 32 with
        # 3/3 and 15/29 (the only split of 32 into n_c + n_o with those percentages and n_c ≤ 7)
        "alectinib": (1, 6, "16.7"), "crizotinib": (8, 11, "72.7"), "p1": "0.05",
        "ceritinib": (3, 3, "100.0"), "other_2g": (15, 29, "51.7"), "p2": "0.238",
    },
    "cns_progression_without_cns_metastases": {
        "label": "CNS progression rate in patients without baseline CNS metastases",
        # 14.3 % of 14 = 2; 52.4 % of 42 = 22; ceritinib 7 − 3 = 4 at 75 % = 3; others 46 − 29 = 17 at 17.6 % = 3
        "alectinib": (2, 14, "14.3"), "crizotinib": (22, 42, "52.4"), "p1": "0.015",
        "ceritinib": (3, 4, "75.0"), "other_2g": (3, 17, "17.6"), "p2": "0.053",
    },
    "symptomatic_progression": {
        "label": "Symptomatic progression in all populations",
        # 40.0 % of 20 = 8; 50.9 % of 53 = 27; 28.6 % of 7 = 2; 36.9 % of 46: 17 (36.96 %)
        "alectinib": (8, 20, "40.0"), "crizotinib": (27, 53, "50.9"), "p1": "0.442",
        "ceritinib": (2, 7, "28.6"), "other_2g": (17, 46, "36.9"), "p2": "1",
    },
    "symptomatic_cns_progression": {
        "label": "Symptomatic CNS progression in all populations",
        # 5.0 % of 20 = 1; 32.1 % of 53 = 17; 28.6 % of 7 = 2; 8.7 % of 46 = 4
        "alectinib": (1, 20, "5.0"), "crizotinib": (17, 53, "32.1"), "p1": "0.016",
        "ceritinib": (2, 7, "28.6"), "other_2g": (4, 46, "8.7"), "p2": "0.174",
    },
}

# --- Progression patterns (Results text) -----------------------------------------------------
# "oligo-progression occurred in approximately 30 % of patients following ALK-TKI treatment
# (Cohort 1: 30 %, Cohort 2 crizotinib stage: 34.6 %, Cohort 2 post-crizotinib stage: 30.2 %)":
# 30 % of 20 = 6; 34.6 % = 18/52 (no n ≤ 53 gives 34.6 % with 53: 18/53 = 34.0 %); 30.2 % of 53 = 16.
OLIGO_PROGRESSION = {
    "cohort_1": (6, 20, "30"),
    "cohort_2_crizotinib": (18, 52, "34.6"),
    "cohort_2_post_crizotinib": (16, 53, "30.2"),
}
# "local treatment was administered in approximately 50 % (20/40) of cases with oligo-progression"
LOCAL_THERAPY_FOR_OLIGO_PROGRESSION = (20, 40)

# --- Fig. 2 and Results: re-biopsy and resistance mechanisms after second-generation TKIs --------
RESISTANCE_MECHANISMS = {
    "rebiopsied": 47,  # "A total of 47 individuals underwent re-biopsies following the resistance"
    "sequenced": 44,  # "a total of 44 patients underwent subsequent tissue NGS"
    "alk_kd_mutation": 25,  # "secondary mutation in ALK kinase domain (56.8 %, 25/44)"
    "g1202r": 12,  # "G1202R mutation being the most prevalent site (27.2 %, 12/44)"
    "compound": 3,  # Fig. 5C: "we excluded individuals with ALK compound mutation (n = 3)"
    "MET_amplification": 1,
    "BRAF_fusion": 1,  # AKAP9-BRAF
    "BRAF_V600E": 1,
    "KRAS_mutation": 1,  # KRAS G12A
    "KRAS_amplification": 2,
    "transformation": 2,  # SCC transformation
}

# --- Table 3: treatment after second-generation ALK-TKI resistance ------------------------------
TABLE_3_COLUMNS = {"cohort_1": ("Cohort 1", 20), "cohort_2": ("Cohort 2", 53), "all": ("All populations", 73)}
TABLE_3 = {
    "cohort_1": {"dead": 13, "subsequent_treatment": 18, "subsequent_alk_tki": 17, "subsequent_third_generation": 11,
                 "chemotherapy": 12, "chemotherapy_in_dead": 8},
    "cohort_2": {"dead": 28, "subsequent_treatment": 48, "subsequent_alk_tki": 44, "subsequent_third_generation": 29,
                 "chemotherapy": 23, "chemotherapy_in_dead": 15},
    "all": {"dead": 41, "subsequent_treatment": 66, "subsequent_alk_tki": 61, "subsequent_third_generation": 40,
            "chemotherapy": 35, "chemotherapy_in_dead": 23},
}

# --- Figs. 5 and 6: survival on the first line after second-generation resistance ---------------
# Medians in months ("NR": not reached); p: log-rank; HR with 95 % CI: Cox, first group vs second.
# None: the paper does not give it.
SURVIVAL = {
    "fig5a": {"groups": (22, 13), "medians": ("8.6", "2.7"), "p": "0.021", "hr": ("0.43", "0.15", "0.85")},
    "fig5b": {"groups": (22, 13), "medians": ("NR", "11.9"), "p": "0.132", "hr": ("0.50", "0.18", "1.25")},
    # Text: "In the group with secondary mutation ... the PFS was 10.8 months, while the OS remained
    # not achieved. The median PFS and OS of patients without ALK resistant mutations were 2.7
    # months and 11.[9]" (the source text is cut after "11."; the group is Fig. 5A/B's).
    "fig5c": {"groups": (19, 13), "medians": ("10.8", "2.7"), "p": None, "hr": None},
    "fig5d": {"groups": (19, 13), "medians": ("NR", "11.9"), "p": None, "hr": None},
    "fig5e": {"groups": (19, 8), "medians": (None, None), "p": None, "hr": None},
    "fig5f": {"groups": (19, 8), "medians": (None, None), "p": None, "hr": None},
    # "The PFS was 6.9 months in chemotherapy group and 2.7 month[s]" (the text is cut there).
    "fig6a": {"groups": (31, 13), "medians": ("6.9", "2.7"), "p": None, "hr": None},
    "fig6b": {"groups": (31, 13), "medians": (None, None), "p": None, "hr": None},
    "fig6c": {"groups": (31, 8), "medians": (None, None), "p": None, "hr": None},
    "fig6d": {"groups": (31, 8), "medians": (None, None), "p": None, "hr": None},
}
