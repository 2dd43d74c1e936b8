"""The study's tables, computed from the registry's derived results (no database: the selector
registry/selectors/study_cohort.py reads them). Each figure is returned beside the published one
(registry/reports/published.py).

How the study's groups are read from the derivations (rules §6-§7):

- Stages. Cohort 1: line 1 (alectinib, the index line). Cohort 2 crizotinib stage: line 1 (the first
  line by start date); post-crizotinib stage: the index (second-generation) line.
- Table 1 at the start of the stage's line: age (completed years), histology (`histology_at_start`,
  so a transformation shows), ECOG (`line_ecog`), CNS metastases (`line_cns_mets`); sex and smoking
  of the patient (smoker = former or current); distant metastasis = stage IVA or IVB at diagnosis
  (IIIB/IIIC no; a recurrence after curative treatment is counted unknown).
- Table 2: the progression of the stage's line; CNS metastases at baseline = `line_cns_mets` of that
  line; Fisher's exact test, two-sided. A blank (unknown) label is left out of its row's n.
- Table 3: the lines subsequent to the index progression (`subsequent_to_index`); chemotherapy =
  line type 2 or 3; "dead" = death on or before the data cut-off.
- Resistance mechanisms: per patient, the biopsies taken at the index resistance (§7); sequenced =
  ALK status `mutation` or `no_mutation`.
- Survival: the first line subsequent to the index progression, PFS and OS of that line (§4, §5).
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from registry.selectors.study_cohort import StudyCohort, StudyLine, StudyPatient

from . import published

TKI = 1
CHEMOTHERAPY_TYPES = (2, 3)
PLATINUM_DOUBLETS = (20, 21, 23)  # pemetrexed + platinum (± bevacizumab), gemcitabine + platinum
CERITINIB = 3
ADENOCARCINOMA = 1
DISTANT_METASTASIS_STAGES = (3, 4)  # IVA, IVB
LOCOREGIONAL_STAGES = (1, 2)  # IIIB, IIIC
DAYS_PER_MONTH = Decimal("30.4375")


def percent(count: int, total: int) -> str | None:
    """One decimal, rounded half up, as the paper prints them ("15.0"); None without a denominator."""
    if not total:
        return None
    return str((Decimal(100 * count) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def first_line(patient: StudyPatient) -> StudyLine:
    return min(patient.lines, key=lambda line: (line.line_start, line.line_no))


def first_subsequent_line(patient: StudyPatient) -> StudyLine | None:
    """The first line after the index progression (§6 "subsequent to the index")."""
    subsequent = [line for line in patient.lines if line.subsequent_to_index]
    return min(subsequent, key=lambda line: (line.line_start, line.line_no)) if subsequent else None


def stages(cohort: StudyCohort) -> dict[str, list[tuple[StudyPatient, StudyLine]]]:
    """Table 1's three columns: (patient, the stage's line)."""
    return {
        "cohort_1": [(p, p.index_line) for p in cohort.patients if p.cohort == 1],
        "cohort_2_crizotinib": [(p, first_line(p)) for p in cohort.patients if p.cohort == 2],
        "cohort_2_post_crizotinib": [(p, p.index_line) for p in cohort.patients if p.cohort == 2],
    }


def _cell(count: int, total: int, published_count: int, published_percent: str | None) -> dict:
    """Our count and percentage beside the published ones; the published percentage is the printed
    string (None where the paper prints a count alone), never recomputed from its count."""
    return {"count": count, "percent": percent(count, total),
            "published": {"count": published_count, "percent": published_percent}}


# ---------------------------------------------------------------------------------------- Table 1

TABLE_1_ROWS: tuple[tuple[str, str, str, Callable[[StudyPatient, StudyLine], bool | None]], ...] = (
    # (key, group, label, test: True counts in the row, False in its pair, None unknown)
    ("male", "Gender", "Male", lambda p, line: None if p.sex is None else p.sex == 1),
    ("female", "Gender", "Female", lambda p, line: None if p.sex is None else p.sex == 2),
    ("age_under_65", "Age", "< 65", lambda p, line: None if line.age_at_start is None else line.age_at_start < 65),
    ("age_65_or_over", "Age", "≥ 65", lambda p, line: None if line.age_at_start is None else line.age_at_start >= 65),
    ("adenocarcinoma", "Pathology", "Adenocarcinoma",
     lambda p, line: None if line.histology_at_start is None else line.histology_at_start == ADENOCARCINOMA),
    ("other_histology", "Pathology", "Other type",
     lambda p, line: None if line.histology_at_start is None else line.histology_at_start != ADENOCARCINOMA),
    ("smoker", "Smoking history", "Smoker", lambda p, line: None if p.smoking is None else p.smoking in (1, 2)),
    ("never_smoker", "Smoking history", "Never smoker", lambda p, line: None if p.smoking is None else p.smoking == 0),
    ("ecog_0_1", "ECOG", "0–1", lambda p, line: None if line.line_ecog is None else line.line_ecog <= 1),
    ("ecog_2_or_more", "ECOG", "≥ 2", lambda p, line: None if line.line_ecog is None else line.line_ecog >= 2),
    ("distant_metastasis", "Distant metastasis", "Yes",
     lambda p, line: True if p.stage_dx in DISTANT_METASTASIS_STAGES else False if p.stage_dx in LOCOREGIONAL_STAGES
     else None),
    ("no_distant_metastasis", "Distant metastasis", "No",
     lambda p, line: True if p.stage_dx in LOCOREGIONAL_STAGES else False if p.stage_dx in DISTANT_METASTASIS_STAGES
     else None),
    ("cns_metastases", "CNS metastases", "Yes", lambda p, line: None if line.line_cns_mets is None else line.line_cns_mets == 1),
    ("no_cns_metastases", "CNS metastases", "No",
     lambda p, line: None if line.line_cns_mets is None else line.line_cns_mets == 0),
)


def table_1(cohort: StudyCohort) -> dict:
    columns = stages(cohort)
    result = {"columns": [], "age": {}, "rows": []}
    for key, pairs in columns.items():
        result["columns"].append({"key": key, "label": published.TABLE_1_COLUMNS[key], "n": len(pairs),
                                  "published_n": published.TABLE_1[key]["n"]})
        ages = [line.age_at_start for _, line in pairs if line.age_at_start is not None]
        reference = published.TABLE_1[key]
        result["age"][key] = {
            "median": _median(ages), "min": min(ages, default=None), "max": max(ages, default=None),
            "published": {"median": reference["age_median"], "min": reference["age_min"], "max": reference["age_max"]},
        }
    for key, group, label, test in TABLE_1_ROWS:
        values = {}
        for column, pairs in columns.items():
            answers = [test(patient, line) for patient, line in pairs]
            values[column] = _cell(
                sum(answer is True for answer in answers), len(pairs), published.TABLE_1[column][key],
                published.TABLE_1_PRINTED_PERCENT[column][key],
            ) | {"unknown": sum(answer is None for answer in answers)}
        result["rows"].append({"key": key, "group": group, "label": label, "values": values})
    return result


def _median(values: list[int]):
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if middle == int(middle) else float(middle)


# ---------------------------------------------------------------------------------------- Table 2

def table_2_columns(cohort: StudyCohort) -> dict[str, list[StudyLine]]:
    """The progressions compared: first-line alectinib, first-line crizotinib, and the cohort 2 index
    (second-generation) line with ceritinib or another second-generation TKI."""
    cohort_2_index = [p.index_line for p in cohort.patients if p.cohort == 2]
    return {
        "alectinib": [p.index_line for p in cohort.patients if p.cohort == 1],
        "crizotinib": [first_line(p) for p in cohort.patients if p.cohort == 2],
        "ceritinib": [line for line in cohort_2_index if line.line_drug == CERITINIB],
        "other_2g": [line for line in cohort_2_index if line.line_drug != CERITINIB],
    }


TABLE_2_ROWS: dict[str, tuple[Callable[[StudyLine], bool], Callable[[StudyLine], bool | None]]] = {
    # key: (which lines are the row's population, the label counted)
    "cns_progression": (lambda line: True, lambda line: line.cns_progression),
    "cns_progression_with_cns_metastases": (lambda line: line.line_cns_mets == 1, lambda line: line.cns_progression),
    "cns_progression_without_cns_metastases": (lambda line: line.line_cns_mets == 0, lambda line: line.cns_progression),
    "symptomatic_progression": (lambda line: True, lambda line: line.symptomatic_progression),
    "symptomatic_cns_progression": (lambda line: True, lambda line: line.symptomatic_cns_progression),
}


def table_2(cohort: StudyCohort) -> dict:
    from .statistics import fisher_exact_two_sided

    columns = table_2_columns(cohort)
    result = {
        "columns": [{"key": key, "label": published.TABLE_2_COLUMNS[key][0], "n": len(lines),
                     "published_n": published.TABLE_2_COLUMNS[key][1]} for key, lines in columns.items()],
        "test": "fisher_exact",
        "rows": [],
    }
    for key, (population, label) in TABLE_2_ROWS.items():
        reference = published.TABLE_2[key]
        values = {}
        for column, lines in columns.items():
            answers = [label(line) for line in lines if population(line)]
            known = [answer for answer in answers if answer is not None]
            events, total = sum(known), len(known)
            published_events, published_total, printed = reference[column]
            values[column] = {"events": events, "n": total, "percent": percent(events, total),
                              "unknown": len(answers) - len(known),
                              "published": {"events": published_events, "n": published_total, "percent": printed}}

        def p_value(first: str, second: str) -> float | None:
            a, b = values[first], values[second]
            if not a["n"] or not b["n"]:
                return None
            return fisher_exact_two_sided(a["events"], a["n"], b["events"], b["n"])

        result["rows"].append({
            "key": key, "label": reference["label"], "values": values,
            "p1": {"value": p_value("alectinib", "crizotinib"), "published": reference["p1"],
                   "compares": ["alectinib", "crizotinib"]},
            "p2": {"value": p_value("ceritinib", "other_2g"), "published": reference["p2"],
                   "compares": ["ceritinib", "other_2g"]},
        })
    return result


# ------------------------------------------------------------------------------- progression patterns

def progression_patterns(cohort: StudyCohort) -> dict:
    """Oligo-progression per stage (of the progressions whose extent is known) and local therapy
    for oligo-progression (all stages together)."""
    result = {"stages": {}, "local_therapy_for_oligo": {}}
    oligo_lines = []
    for key, pairs in stages(cohort).items():
        extents = Counter(line.extent or "none" for _, line in pairs)
        known = extents["oligo"] + extents["extensive"]
        count, total, printed = published.OLIGO_PROGRESSION[key]
        result["stages"][key] = {
            "oligo": extents["oligo"], "extensive": extents["extensive"], "unknown": extents["unknown"],
            "oligo_percent_of_known": percent(extents["oligo"], known),
            "published": {"oligo": count, "known": total, "percent": printed},
        }
        oligo_lines += [line for _, line in pairs if line.extent == "oligo"]
    treated = [line for line in oligo_lines if line.local_therapy_for_pd]
    beyond_months = sorted(Decimal(line.beyond_pd_days) / DAYS_PER_MONTH for line in treated
                           if line.continued_beyond_pd and line.beyond_pd_days is not None)
    count, total, printed = published.LOCAL_THERAPY_FOR_OLIGO_PROGRESSION
    result["local_therapy_for_oligo"] = {
        "treated": len(treated), "oligo": len(oligo_lines), "percent": percent(len(treated), len(oligo_lines)),
        "published": {"treated": count, "oligo": total, "percent": printed},
        "median_months_continued_beyond_pd": (
            str(statistics.median(beyond_months).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
            if beyond_months else None),
        "published_months_continued_beyond_pd": "6.4",
    }
    return result


# ------------------------------------------------------------------------------- resistance mechanisms

def index_biopsies(patient: StudyPatient):
    return [biopsy for biopsy in patient.biopsies if biopsy.at_index_resistance]


def resistance_mechanisms(cohort: StudyCohort) -> dict:
    """Fig. 2: per patient, what the biopsies at the index (second-generation) resistance found."""
    rebiopsied = sequenced = 0
    found: Counter = Counter()
    categories: Counter = Counter()
    mutations: Counter = Counter()
    for patient in cohort.patients:
        biopsies = index_biopsies(patient)
        if not biopsies:
            continue
        rebiopsied += 1
        if patient.alk_mut_status_at_index not in ("mutation", "no_mutation"):
            continue
        sequenced += 1
        changes = {change for biopsy in biopsies for change in (biopsy.alk_kd_mutations or "").split(";") if change}
        independent = {name for biopsy in biopsies for name in (biopsy.alk_independent or "").split(";") if name}
        transformed = any(biopsy.transformation for biopsy in biopsies)
        found["alk_kd_mutation"] += patient.alk_mut_status_at_index == "mutation"
        found["g1202r"] += any(biopsy.g1202r for biopsy in biopsies)
        found["compound"] += any(biopsy.alk_compound for biopsy in biopsies)
        found["transformation"] += transformed
        for name in independent:
            found[name] += 1
        for change in changes:
            mutations[change] += 1
        # §7's order, over the patient's index biopsies together.
        categories["alk_kd_mutation" if changes else "transformation" if transformed
                   else "alk_independent" if independent else "none_identified"] += 1
    rows = []
    for key in ("alk_kd_mutation", "g1202r", "compound", "MET_amplification", "BRAF_fusion", "BRAF_V600E",
                "KRAS_mutation", "KRAS_amplification", "EGFR_mutation", "EGFR_amplification", "transformation"):
        reference = published.RESISTANCE_MECHANISMS.get(key)
        rows.append({"key": key, "count": found[key], "percent_of_sequenced": percent(found[key], sequenced),
                     "published": reference,
                     "published_percent": published.RESISTANCE_MECHANISMS_PRINTED_PERCENT.get(key)})
    return {
        "rebiopsied": rebiopsied, "sequenced": sequenced,
        "published": {"rebiopsied": published.RESISTANCE_MECHANISMS["rebiopsied"],
                      "sequenced": published.RESISTANCE_MECHANISMS["sequenced"]},
        "findings": rows,
        "categories": dict(sorted(categories.items())),
        "alk_kd_mutations": dict(sorted(mutations.items(), key=lambda item: (-item[1], item[0]))),
    }


# ---------------------------------------------------------------------------------------- Table 3

TABLE_3_ROWS: dict[str, str] = {
    "subsequent_treatment": "≥ 1 line of subsequent treatment",
    "subsequent_alk_tki": "≥ 1 line of subsequent ALK-TKI",
    "subsequent_third_generation": "Subsequent third-generation ALK-TKI",
    "chemotherapy": "≥ 1 line of chemotherapy",
    "chemotherapy_in_dead": "≥ 1 line of chemotherapy in dead group",
}


def _subsequent(patient: StudyPatient) -> list[StudyLine]:
    return [line for line in patient.lines if line.subsequent_to_index]


def table_3(cohort: StudyCohort) -> dict:
    groups = {
        "cohort_1": [p for p in cohort.patients if p.cohort == 1],
        "cohort_2": [p for p in cohort.patients if p.cohort == 2],
        "all": list(cohort.patients),
    }
    tests = {
        "subsequent_treatment": lambda lines: bool(lines),
        "subsequent_alk_tki": lambda lines: any(line.line_type == TKI for line in lines),
        "subsequent_third_generation": lambda lines: any(line.tki_generation == 3 for line in lines),
        "chemotherapy": lambda lines: any(line.line_type in CHEMOTHERAPY_TYPES for line in lines),
    }
    result = {"columns": [], "rows": []}
    for key, patients in groups.items():
        dead = sum(bool(p.dead_at_cutoff) for p in patients)
        result["columns"].append({"key": key, "label": published.TABLE_3_COLUMNS[key][0], "n": len(patients),
                                  "dead": dead, "published_n": published.TABLE_3_COLUMNS[key][1],
                                  "published_dead": published.TABLE_3[key]["dead"]})
    for row, label in TABLE_3_ROWS.items():
        values = {}
        for key, patients in groups.items():
            if row == "chemotherapy_in_dead":
                population = [p for p in patients if p.dead_at_cutoff]
                test = tests["chemotherapy"]
            else:
                population, test = patients, tests[row]
            yes = sum(test(_subsequent(p)) for p in population)
            printed_yes, printed_no = published.TABLE_3_PRINTED_PERCENT[key][row]
            values[key] = {
                "yes": _cell(yes, len(population), published.TABLE_3[key][row], printed_yes),
                "no": _cell(len(population) - yes, len(population), _published_no(key, row), printed_no),
            }
        result["rows"].append({"key": row, "label": label, "values": values})
    return result


def _published_no(column: str, row: str) -> int:
    reference = published.TABLE_3[column]
    population = reference["dead"] if row == "chemotherapy_in_dead" else published.TABLE_3_COLUMNS[column][1]
    return population - reference[row]


# ---------------------------------------------------------------------------------------- survival

def _first_subsequent(patient: StudyPatient, test: Callable[[StudyLine], bool]) -> StudyLine | None:
    line = first_subsequent_line(patient)
    return line if line is not None and test(line) else None


def _is_tki(line: StudyLine) -> bool:
    return line.line_type == TKI


def _is_third_generation(line: StudyLine) -> bool:
    return line.line_type == TKI and line.tki_generation == 3


def _is_platinum_chemotherapy(line: StudyLine) -> bool:
    return line.line_type in CHEMOTHERAPY_TYPES and line.line_drug in PLATINUM_DOUBLETS


def _has_compound_mutation(patient: StudyPatient) -> bool:
    return any(biopsy.alk_compound for biopsy in index_biopsies(patient))


# Each comparison: (key, title, endpoint, (label, patient filter, line test) × 2). The first group
# is compared with the second: the hazard ratio is the first's relative to the second's.
SURVIVAL_COMPARISONS = (
    ("fig5a", "PFS of the first subsequent ALK-TKI, with vs without an ALK resistance mutation", "PFS",
     ("ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "mutation", _is_tki),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig5b", "OS from the first subsequent ALK-TKI, with vs without an ALK resistance mutation", "OS",
     ("ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "mutation", _is_tki),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig5c", "PFS of the first subsequent ALK-TKI, compound ALK mutations excluded", "PFS",
     ("ALK resistance mutation (not compound)",
      lambda p: p.alk_mut_status_at_index == "mutation" and not _has_compound_mutation(p), _is_tki),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig5d", "OS from the first subsequent ALK-TKI, compound ALK mutations excluded", "OS",
     ("ALK resistance mutation (not compound)",
      lambda p: p.alk_mut_status_at_index == "mutation" and not _has_compound_mutation(p), _is_tki),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig5e", "PFS of a subsequent third-generation ALK-TKI, with vs without an ALK resistance mutation", "PFS",
     ("ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "mutation", _is_third_generation),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_third_generation)),
    ("fig5f", "OS from a subsequent third-generation ALK-TKI, with vs without an ALK resistance mutation", "OS",
     ("ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "mutation", _is_third_generation),
     ("No ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_third_generation)),
    ("fig6a", "PFS without a known ALK resistance mutation: platinum chemotherapy vs a subsequent ALK-TKI", "PFS",
     ("Platinum chemotherapy", lambda p: p.alk_mut_status_at_index != "mutation", _is_platinum_chemotherapy),
     ("ALK-TKI, no ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig6b", "OS without a known ALK resistance mutation: platinum chemotherapy vs a subsequent ALK-TKI", "OS",
     ("Platinum chemotherapy", lambda p: p.alk_mut_status_at_index != "mutation", _is_platinum_chemotherapy),
     ("ALK-TKI, no ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation", _is_tki)),
    ("fig6c", "PFS without a known ALK resistance mutation: platinum chemotherapy vs a third-generation ALK-TKI",
     "PFS",
     ("Platinum chemotherapy", lambda p: p.alk_mut_status_at_index != "mutation", _is_platinum_chemotherapy),
     ("Third-generation ALK-TKI, no ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation",
      _is_third_generation)),
    ("fig6d", "OS without a known ALK resistance mutation: platinum chemotherapy vs a third-generation ALK-TKI",
     "OS",
     ("Platinum chemotherapy", lambda p: p.alk_mut_status_at_index != "mutation", _is_platinum_chemotherapy),
     ("Third-generation ALK-TKI, no ALK resistance mutation", lambda p: p.alk_mut_status_at_index == "no_mutation",
      _is_third_generation)),
)


def survival_groups(cohort: StudyCohort, patient_filter, line_test, endpoint: str):
    """(durations in months, events) of the group's first subsequent lines; lines whose endpoint was
    not derived (no data cut-off) are left out and counted."""
    durations, events, missing = [], [], 0
    for patient in cohort.patients:
        if not patient_filter(patient):
            continue
        line = _first_subsequent(patient, line_test)
        if line is None:
            continue
        months, event = (line.pfs_months, line.pfs_event) if endpoint == "PFS" else (line.os_months, line.os_event)
        if months is None or event is None:
            missing += 1
            continue
        durations.append(float(months))
        events.append(bool(event))
    return tuple(durations), tuple(events), missing
