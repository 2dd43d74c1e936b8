"""The reference study's published figures (Wu et al., J Transl Med 2024;22:582: Tables 1-3, the
Results and the figure legends), typed from the paper: what the study report prints beside its own.

Where the paper prints only a percentage, the count is the one that percentage implies for the
column's n (e.g. 15.0 % of 20 = 3); each such count is worked out in a comment. Every percentage is
kept as the paper prints it, never recomputed from the count: the paper drops a trailing ".0" in
some columns ("50" of 20) and does not round consistently (17/46 = 36.96 % is printed 36.9 %,
11/53 = 20.75 % is 20.7 %, 42/53 = 79.25 % is 79.3 %, 4/53 = 7.55 % is 7.6 %, 12/44 = 27.27 % is 27.2 %).
The report compares counts, p-values and hazard ratios, so a percentage printed this way is shown but
never marked as a discrepancy on its own.
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
# Table 1's percentages as printed; None where the paper prints a count alone ("0"). Printed
# otherwise than the count rounds: 11/53 = 20.75 % and 49/53 = 92.45 % as 20.7 and 92.4 (cut),
# 42/53 = 79.25 % and 4/53 = 7.55 % as 79.3 and 7.6 (rounded up).
TABLE_1_PRINTED_PERCENT = {
    "cohort_1": {
        "male": "50", "female": "50", "age_under_65": "90", "age_65_or_over": "10", "adenocarcinoma": "100",
        "other_histology": None, "smoker": "30", "never_smoker": "70", "ecog_0_1": "45", "ecog_2_or_more": "55",
        "distant_metastasis": "100", "no_distant_metastasis": None, "cns_metastases": "30", "no_cns_metastases": "70",
    },
    "cohort_2_crizotinib": {
        "male": "56.6", "female": "43.4", "age_under_65": "94.3", "age_65_or_over": "5.7", "adenocarcinoma": "98.1",
        "other_histology": "1.9", "smoker": "28.3", "never_smoker": "71.7", "ecog_0_1": "77.4",
        "ecog_2_or_more": "22.6", "distant_metastasis": "100", "no_distant_metastasis": None,
        "cns_metastases": "20.7", "no_cns_metastases": "79.3",
    },
    "cohort_2_post_crizotinib": {
        "male": "56.6", "female": "43.4", "age_under_65": "92.4", "age_65_or_over": "7.6", "adenocarcinoma": "96.2",
        "other_histology": "3.8", "smoker": "28.3", "never_smoker": "71.7", "ecog_0_1": "58.5",
        "ecog_2_or_more": "41.5", "distant_metastasis": "100", "no_distant_metastasis": None,
        "cns_metastases": "60.4", "no_cns_metastases": "39.6",
    },
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
LOCAL_THERAPY_FOR_OLIGO_PROGRESSION = (20, 40, "50")

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
# The percentages of the sequenced 44 the Results print ("56.8%, 25/44", "27.2%, 12/44").
RESISTANCE_MECHANISMS_PRINTED_PERCENT = {"alk_kd_mutation": "56.8", "g1202r": "27.2"}

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
# Table 3's percentages as printed, "yes" and "no" per row (cohort 1's without a decimal).
TABLE_3_PRINTED_PERCENT = {
    "cohort_1": {
        "subsequent_treatment": ("90", "10"), "subsequent_alk_tki": ("85", "15"),
        "subsequent_third_generation": ("55", "45"), "chemotherapy": ("60", "40"),
        "chemotherapy_in_dead": ("61.5", "38.5"),
    },
    "cohort_2": {
        "subsequent_treatment": ("90.6", "9.4"), "subsequent_alk_tki": ("83.0", "17.0"),
        "subsequent_third_generation": ("54.7", "45.3"), "chemotherapy": ("43.4", "56.6"),
        "chemotherapy_in_dead": ("53.6", "46.4"),
    },
    "all": {
        "subsequent_treatment": ("90.4", "9.6"), "subsequent_alk_tki": ("83.6", "16.4"),
        "subsequent_third_generation": ("54.8", "45.2"), "chemotherapy": ("47.9", "52.1"),
        "chemotherapy_in_dead": ("56.1", "43.9"),
    },
}

# --- Figs. 5 and 6: survival on the first line after second-generation resistance ---------------
# Medians in months ("NR": not reached; the paper prints "NA" or "not achieved"); p: log-rank; HR
# with 95 % CI: Cox, first group vs second. Each as printed (Fig. 6A's HR is printed "0.6").
# None: the paper does not give it (Figs. 5E/F and 6C/D are described in words only).
SURVIVAL = {
    # "(8.6 m vs. 2.7 m, p=0.021, HR=0.43, 95%CI: 0.15–0.85) (Fig. 5A)"
    "fig5a": {"groups": (22, 13), "medians": ("8.6", "2.7"), "p": "0.021", "hr": ("0.43", "0.15", "0.85")},
    # "(NA vs. 11.9 m, p=0.132, HR=0.50, 95%CI: 0.18–1.25) (Fig. 5B)"
    "fig5b": {"groups": (22, 13), "medians": ("NR", "11.9"), "p": "0.132", "hr": ("0.50", "0.18", "1.25")},
    # Results on Fig. 5C, D: with a mutation "the PFS was 10.8 months, while the OS remained not
    # achieved"; without, "2.7 months and 11.9 months"; n = 22 − 3 with a compound mutation.
    "fig5c": {"groups": (19, 13), "medians": ("10.8", "2.7"), "p": None, "hr": None},
    "fig5d": {"groups": (19, 13), "medians": ("NR", "11.9"), "p": None, "hr": None},
    # Fig. 5's legend: "with (n=19) and without ALK-resistant mutations (n=8)"; no figure in the text.
    "fig5e": {"groups": (19, 8), "medians": (None, None), "p": None, "hr": None},
    "fig5f": {"groups": (19, 8), "medians": (None, None), "p": None, "hr": None},
    # Results on Fig. 6A: PFS "6.9 months in chemotherapy group and 2.7 months in ALK-TKI group",
    # "hazard ratio (HR) of 0.6 (95%CI: 0.25–1.17)", "(p=0.124)".
    "fig6a": {"groups": (31, 13), "medians": ("6.9", "2.7"), "p": "0.124", "hr": ("0.6", "0.25", "1.17")},
    # Results on Fig. 6B: OS "16.3 months in chemotherapy group and 11.9 months in ALK-TKI group",
    # "hazard ratio (HR) of 0.81 (95%CI: 0.35–1.80)", "(p=0.585)".
    "fig6b": {"groups": (31, 13), "medians": ("16.3", "11.9"), "p": "0.585", "hr": ("0.81", "0.35", "1.80")},
    # Figs. 6C, D: the Results say only that the differences were not significant.
    "fig6c": {"groups": (31, 8), "medians": (None, None), "p": None, "hr": None},
    "fig6d": {"groups": (31, 8), "medians": (None, None), "p": None, "hr": None},
}
