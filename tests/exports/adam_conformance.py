"""Checks of exported `responses` (ADRS) and `tumor_sums` (ADTR) against the ADaM rules they follow
and against the datasets they must agree with (`lines`, `assessments`), written from rules §8 and the
CDISC ADaM conventions, independently of registry/exports/adam_datasets.py.

Each check takes the exported CSV files as records ({column: cell}) and returns the problems it found,
one text each, so that a failing test lists them all.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

RESPONSE_VARIABLES = ("studyid", "usubjid", "line_no", "trtp", "paramcd", "param", "adt", "avalc", "aval", "ady")
TUMOR_SUM_VARIABLES = ("studyid", "usubjid", "line_no", "paramcd", "adt", "aval", "ablfl", "base", "chg", "pchg",
                       "nadir", "pchg_nadir")
# §8: AVALC and its AVAL.
RESPONSE_CODES = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6}
# §8 best response: CR > PR > SD or Non-CR/Non-PD > PD > NE.
RANK = {"CR": 4, "PR": 3, "SD": 2, "NON-CR/NON-PD": 2, "PD": 1, "NE": 0}
SD_MIN_DAYS = 42  # the default setting, which the demo cohort uses
SIX_PLACES = Decimal("0.000001")


def _line_key(record: dict) -> tuple[str, str]:
    return record["record_id"], record["line_no"]


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text != "" else None


def _percent(change: Decimal, reference: Decimal) -> Decimal:
    return (100 * change / reference).quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)


def missing_variables(records: list[dict], variables) -> list[str]:
    return [f"no column {name}" for name in variables if records and name not in records[0]]


def subject_problems(records: list[dict]) -> list[str]:
    """STUDYID never blank; USUBJID = STUDYID-record_id."""
    return [f"{record['record_id']}: usubjid {record['usubjid']!r}" for record in records
            if not record["studyid"] or record["usubjid"] != f"{record['studyid']}-{record['record_id']}"]


def response_problems(responses: list[dict], lines: list[dict], assessments: list[dict]) -> list[str]:
    problems = missing_variables(responses, RESPONSE_VARIABLES) + subject_problems(responses)
    line_by_key = {_line_key(line): line for line in lines}

    # PARAMCD and PARAM one-to-one.
    pairs = {(record["paramcd"], record["param"]) for record in responses}
    if len({code for code, _ in pairs}) != len(pairs) or len({param for _, param in pairs}) != len(pairs):
        problems.append(f"paramcd and param are not one-to-one: {sorted(pairs)}")
    if {code for code, _ in pairs} - {"OVRLRESP", "BOR"}:
        problems.append(f"paramcd other than OVRLRESP and BOR: {sorted(pairs)}")

    for record in responses:
        where = f"{record['record_id']} line {record['line_no']} {record['paramcd']} {record['adt']}"
        if record["avalc"] not in RESPONSE_CODES:
            problems.append(f"{where}: avalc {record['avalc']!r}")
        elif record["aval"] != str(RESPONSE_CODES[record["avalc"]]):
            problems.append(f"{where}: aval {record['aval']} for avalc {record['avalc']}")
        line = line_by_key.get(_line_key(record))
        if line is None:
            problems.append(f"{where}: no such line")
            continue
        ady = (date.fromisoformat(record["adt"]) - date.fromisoformat(line["line_start"])).days
        if record["ady"] != str(ady) or ady < 0:
            problems.append(f"{where}: ady {record['ady']}, adt - line_start = {ady}")

    # OVRLRESP: the rows of `assessments`, in their order.
    overall = [(r["record_id"], r["line_no"], r["adt"], r["avalc"], r["response_source"])
               for r in responses if r["paramcd"] == "OVRLRESP"]
    expected = [(a["record_id"], a["line_no"], a["ta_date"], a["overall_response"], a["response_source"])
                for a in assessments]
    if overall != expected:
        problems.append(f"OVRLRESP rows differ from assessments ({len(overall)} against {len(expected)} rows)")

    # BOR: one per line with a best response, none for another, the line's last row.
    by_line: dict[tuple, list[dict]] = defaultdict(list)
    for record in responses:
        by_line[_line_key(record)].append(record)
    for key, line in line_by_key.items():
        rows = by_line.get(key, [])
        best = [row for row in rows if row["paramcd"] == "BOR"]
        if not line["best_response"]:
            if best:
                problems.append(f"{key}: a BOR row without best_response")
            continue
        if len(best) != 1 or rows[-1] is not best[0]:
            problems.append(f"{key}: {len(best)} BOR rows, or not after the line's OVRLRESP rows")
            continue
        problems.extend(_best_response_problems(key, best[0], rows[:-1], line))
    return problems


def _counted(row: dict) -> str:
    # §8: SD and Non-CR/Non-PD count as NE before sd_min_days from the line start.
    if row["avalc"] in ("SD", "NON-CR/NON-PD") and int(row["ady"]) < SD_MIN_DAYS:
        return "NE"
    return row["avalc"]


def _best_response_problems(key, best: dict, overall: list[dict], line: dict) -> list[str]:
    if best["avalc"] != line["best_response"]:
        return [f"{key}: BOR {best['avalc']}, lines.best_response {line['best_response']}"]
    # Up to and including the progression; the first of those with the best counted response.
    considered = [row for row in overall if not line["pd_date"] or row["adt"] <= line["pd_date"]]
    top = max(RANK[_counted(row)] for row in considered)
    first = next(row for row in considered if RANK[_counted(row)] == top)
    if (_counted(first), first["adt"], first["response_source"]) != (best["avalc"], best["adt"],
                                                                     best["response_source"]):
        return [f"{key}: BOR {best['avalc']} on {best['adt']}; the first best is {_counted(first)} on {first['adt']}"]
    return []


def tumor_sum_problems(tumor_sums: list[dict], lines: list[dict], assessments: list[dict]) -> list[str]:
    problems = missing_variables(tumor_sums, TUMOR_SUM_VARIABLES) + subject_problems(tumor_sums)
    line_by_key = {_line_key(line): line for line in lines}
    problems += [f"paramcd {r['paramcd']!r}" for r in tumor_sums if r["paramcd"] != "SUMDIAM"]
    by_line: dict[tuple, list[dict]] = defaultdict(list)
    for record in tumor_sums:
        by_line[_line_key(record)].append(record)

    for key, rows in by_line.items():
        baseline = [row for row in rows if row["ablfl"] == "Y"]
        problems += [f"{key}: ablfl {row['ablfl']!r}" for row in rows if row["ablfl"] not in ("Y", "")]
        if any(row["base"] for row in rows):
            # A known base: exactly one baseline row, first, dated on the line's baseline assessment.
            if len(baseline) != 1 or rows[0] is not baseline[0]:
                problems.append(f"{key}: {len(baseline)} baseline rows, or not first")
                continue
            if baseline[0]["adt"] != line_by_key[key]["baseline_date"]:
                problems.append(f"{key}: baseline row on {baseline[0]['adt']}, baseline_date "
                                f"{line_by_key[key]['baseline_date']}")
        elif baseline:
            problems.append(f"{key}: a baseline row without base")
        problems += _sum_problems(key, rows)

    # The follow-up rows are the assessments whose sum is known, with their percent changes.
    follow_ups = [(r["record_id"], r["line_no"], r["adt"], _number(r["aval"]), _number(r["pchg"]),
                   _number(r["pchg_nadir"])) for r in tumor_sums if r["ablfl"] != "Y"]
    expected = [(a["record_id"], a["line_no"], a["ta_date"], _number(a["target_sum_mm"]),
                 _number(a["pct_change_baseline"]), _number(a["pct_change_nadir"]))
                for a in assessments if a["target_sum_mm"]]
    if follow_ups != expected:
        differing = [pair for pair in zip(follow_ups, expected, strict=False) if pair[0] != pair[1]][:3]
        problems.append(f"follow-up rows differ from assessments ({len(follow_ups)} against {len(expected)} rows): "
                        f"{differing}")
    return problems


def _sum_problems(key, rows: list[dict]) -> list[str]:
    problems = []
    smallest: Decimal | None = None  # the smallest known sum so far, baseline included
    for row in rows:
        where = f"{key} {row['adt']}"
        aval, base, chg, pchg = (_number(row[name]) for name in ("aval", "base", "chg", "pchg"))
        nadir, pchg_nadir = _number(row["nadir"]), _number(row["pchg_nadir"])
        if aval is None:
            problems.append(f"{where}: a row without a sum")
            continue
        if base is None:
            if (chg, pchg, nadir, pchg_nadir) != (None, None, None, None):
                problems.append(f"{where}: no base, yet a change or nadir")
            continue
        if chg != aval - base:
            problems.append(f"{where}: chg {chg}, aval - base = {aval - base}")
        if base != 0 and pchg != _percent(aval - base, base):
            problems.append(f"{where}: pchg {pchg}, 100 * chg / base = {_percent(aval - base, base)}")
        if row["ablfl"] == "Y":
            if (chg, pchg, nadir, pchg_nadir) != (0, 0, None, None):
                problems.append(f"{where}: the baseline row's chg {chg}, pchg {pchg}, nadir {nadir}")
        else:
            if nadir != smallest:
                problems.append(f"{where}: nadir {nadir}, the smallest known sum before it is {smallest}")
            elif nadir != 0 and pchg_nadir != _percent(aval - nadir, nadir):
                problems.append(f"{where}: pchg_nadir {pchg_nadir}, from the nadir {_percent(aval - nadir, nadir)}")
        smallest = aval if smallest is None else min(smallest, aval)
    return problems
