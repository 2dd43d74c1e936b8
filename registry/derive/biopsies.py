"""§7 Biopsies and resistance mechanisms."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .codes import Histology, VariantKind, YesNo
from .inputs import Biopsy, NgsVariant, TreatmentLine
from .results import BiopsyResult

# §7: the ALK kinase domain spans codons 1116 to 1399, both inclusive.
ALK_KINASE_DOMAIN_FIRST_CODON = 1116
ALK_KINASE_DOMAIN_LAST_CODON = 1399

PHASE_NO_PRIOR_TKI_PD = "no_prior_tki_pd"
PHASE_ON_TKI = "on_tki"

THREE_LETTER_AMINO_ACIDS = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E", "GLY": "G",
    "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F", "PRO": "P", "SER": "S",
    "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "TER": "*", "SEC": "U", "PYL": "O",
}
_THREE_LETTER_PATTERN = re.compile("|".join(THREE_LETTER_AMINO_ACIDS))
_HGVS_KEYWORDS = re.compile("DELINS|DEL|INS|DUP|FS")
_FIRST_CODON = re.compile(r"(\d+)")

# §7 column value of alk_independent, in this order.
ALK_INDEPENDENT_ORDER = (
    "MET_amplification", "BRAF_V600E", "BRAF_fusion", "KRAS_mutation", "KRAS_amplification",
    "EGFR_mutation", "EGFR_amplification",
)
TRANSFORMATION_BY_HISTOLOGY = {Histology.SQUAMOUS: "squamous", Histology.SMALL_CELL: "small_cell"}


def normalise_protein_change(text: str) -> str:
    """§7: `G1202R`, `p.G1202R` and `p.Gly1202Arg` are the same variant: one-letter codes, no `p.`.

    Indel keywords stay lower-case as in HGVS (`L1196_E1198del`).
    """
    change = text.strip()
    if change[:2].lower() == "p.":
        change = change[2:]
    change = change.strip("()").upper()
    # Only a change written in three-letter codes (it starts with one, then the codon) is converted,
    # so that a one-letter insertion such as `insSER` is not misread.
    if re.match(r"[A-Z]{3}\d", change):
        change = _THREE_LETTER_PATTERN.sub(lambda m: THREE_LETTER_AMINO_ACIDS[m.group()], change)
    return _HGVS_KEYWORDS.sub(lambda m: m.group().lower(), change)


def first_codon(protein_change: str) -> int | None:
    match = _FIRST_CODON.search(protein_change)
    return int(match.group()) if match else None


def variant_unknown(variant: NgsVariant) -> bool:
    """§0 (v2): var_gene or var_kind holds a missing-data code (required fields: "" / None means coded)."""
    return not variant.var_gene.strip() or variant.var_kind is None


def is_alk_kinase_domain_mutation(variant: NgsVariant) -> bool:
    """§7: an ALK point mutation or small in-frame indel at codons 1116 to 1399.

    Spec ambiguity: a frameshift (`fs`) is not in frame and a synonymous change (`=`) changes no
    protein, so neither counts; an indel counts by its first codon.
    """
    if variant.var_gene.strip().upper() != "ALK" or variant.var_kind != VariantKind.POINT_MUTATION:
        return False
    change = normalise_protein_change(variant.var_protein)
    codon = first_codon(change)
    if codon is None or "fs" in change or "=" in change:
        return False
    return ALK_KINASE_DOMAIN_FIRST_CODON <= codon <= ALK_KINASE_DOMAIN_LAST_CODON


def alk_independent_alterations(variants: tuple[NgsVariant, ...]) -> tuple[str, ...]:
    """§7: MET amplification; BRAF V600E or a BRAF fusion; KRAS / EGFR mutation or amplification
    (amplification = an alteration reported as amplification), in the §7 column order."""
    found = set()
    for variant in variants:
        gene = variant.var_gene.strip().upper()
        partner = variant.var_partner.strip().upper()
        amplification = variant.var_kind == VariantKind.AMPLIFICATION
        mutation = variant.var_kind == VariantKind.POINT_MUTATION
        if gene == "MET" and amplification:
            found.add("MET_amplification")
        if gene == "BRAF" and mutation and normalise_protein_change(variant.var_protein) == "V600E":
            found.add("BRAF_V600E")
        if variant.var_kind == VariantKind.FUSION and "BRAF" in (gene, partner):
            found.add("BRAF_fusion")
        for name in ("KRAS", "EGFR"):
            if gene == name and mutation:
                found.add(f"{name}_mutation")
            if gene == name and amplification:
                found.add(f"{name}_amplification")
    return tuple(name for name in ALK_INDEPENDENT_ORDER if name in found)


def sequenced_adequately(biopsy: Biopsy) -> bool:
    # §7: NGS on an adequate sample.
    return biopsy.bx_ngs == YesNo.YES and biopsy.bx_adequate == YesNo.YES


@dataclass(frozen=True)
class TkiProgression:
    """An ALK TKI line of the patient (in §1 order) with its pd_date (None: no progression)."""

    line: TreatmentLine
    generation: int | None
    pd_date: date | None
    type_unknown: bool = False  # §0 (v2): line_type coded: perhaps an ALK TKI line, perhaps not


def biopsy_phase(bx_date: date, tki_lines: tuple[TkiProgression, ...], biopsy_lookback_days: int) -> str | None:
    """§7 phase: the latest ALK TKI line L whose pd_date − lookback is on or before bx_date."""
    lookback = timedelta(days=biopsy_lookback_days)
    progressed = [tki for tki in tki_lines if tki.pd_date is not None and tki.pd_date - lookback <= bx_date]
    if not progressed:
        return PHASE_NO_PRIOR_TKI_PD
    latest = progressed[-1]
    if latest.type_unknown:
        return None  # §0 (v2): L may be this line of unknown type, or an earlier one: the phase is unknown
    # §7: another ALK TKI line started after L's progression and on or before bx_date → on_tki.
    later = [tki for tki in tki_lines if tki.line is not latest.line and latest.pd_date < tki.line.line_start <= bx_date]
    if any(not tki.type_unknown for tki in later):
        return PHASE_ON_TKI
    if later:
        return None  # §0 (v2): only a line of unknown type started since: on_tki or post_<n>g is unknown
    # Spec ambiguity: an Other inhibitor without a generation gives no post_<n>g phase (blank).
    return f"post_{latest.generation}g" if latest.generation is not None else None


def derive_biopsy(
    biopsy: Biopsy,
    variants: tuple[NgsVariant, ...],
    diagnosis_histology: int | None,
    phase: str | None,
) -> BiopsyResult:
    """§7 labels of one biopsy; `variants` are the patient's (those with var_bx_date = bx_date count).

    Unknown is not no: without a finding and without NGS on an adequate sample the mutation labels
    are blank, not "none".
    """
    own = tuple(v for v in variants if v.var_bx_date == biopsy.bx_date)
    # §0 (v2): a variant whose gene or alteration holds a missing-data code may be any finding of §7:
    # the lists it could belong to are unknown (blank), and so is a category that it could precede.
    unknown_variant = any(variant_unknown(v) for v in own)
    kd_changes = sorted(
        {normalise_protein_change(v.var_protein) for v in own if is_alk_kinase_domain_mutation(v)},
        key=lambda change: (first_codon(change), change),
    )
    independent = alk_independent_alterations(own)
    assessed = sequenced_adequately(biopsy)
    if kd_changes or assessed:
        alk_kd_mutations: str | None = ";".join(kd_changes)
        alk_compound: bool | None = len(kd_changes) >= 2  # §7: two or more distinct ones
        g1202r: bool | None = "G1202R" in kd_changes
    else:
        alk_kd_mutations = alk_compound = g1202r = None
    alk_independent = ";".join(independent) if (independent or assessed) else None
    if unknown_variant:
        alk_kd_mutations, alk_independent = None, None
        alk_compound = True if len(kd_changes) >= 2 else None
        g1202r = True if "G1202R" in kd_changes else None
    # §7: transformation only when the diagnosis histology was adenocarcinoma.
    transformation = (TRANSFORMATION_BY_HISTOLOGY.get(biopsy.bx_histology)
                      if diagnosis_histology == Histology.ADENOCARCINOMA else None)
    # §7: the first that applies.
    if kd_changes:
        category = "alk_kd_mutation"
    elif unknown_variant:
        category = ""  # blank: the unknown variant may be an ALK kinase-domain mutation, which comes first
    elif transformation:
        category = "transformation"
    elif independent:
        category = "alk_independent"
    elif assessed:
        category = "none_identified"
    else:
        category = "not_assessed"
    return BiopsyResult(
        bx_date=biopsy.bx_date,
        phase=phase,
        alk_kd_mutations=alk_kd_mutations,
        alk_compound=alk_compound,
        g1202r=g1202r,
        alk_independent=alk_independent,
        transformation=transformation,
        mechanism_category=category,
    )


def index_resistance_biopsy_dates(
    biopsies: tuple[Biopsy, ...],
    results: dict[date, BiopsyResult],
    index_generation: int | None,
    index_pd_date: date,
    next_tki_start: date | None,
    biopsy_lookback_days: int,
) -> frozenset[date]:
    """§7 at the index resistance: the biopsies whose phase is the index line's generation, dated from
    index pd_date − lookback to the start of the next ALK TKI line (inclusive; open when none)."""
    earliest = index_pd_date - timedelta(days=biopsy_lookback_days)
    return frozenset(
        biopsy.bx_date for biopsy in biopsies
        if index_generation is not None and results[biopsy.bx_date].phase == f"post_{index_generation}g"
        and earliest <= biopsy.bx_date and (next_tki_start is None or biopsy.bx_date <= next_tki_start)
    )


def alk_mutation_status_at_index(
    biopsies: tuple[Biopsy, ...], results: dict[date, BiopsyResult], at_index: frozenset[date],
) -> str | None:
    """§7: `mutation` if any biopsy at the index resistance has an ALK kinase-domain mutation,
    `no_mutation` if any had NGS on an adequate sample and none has one, `not_assessed` otherwise;
    blank (§0 v2) when none is known to have one but a sequenced one holds a variant of unknown gene or kind."""
    if any(results[day].alk_kd_mutations for day in at_index):
        return "mutation"
    if any(sequenced_adequately(biopsy) and results[biopsy.bx_date].alk_kd_mutations is None
           for biopsy in biopsies if biopsy.bx_date in at_index):
        return None
    if any(sequenced_adequately(biopsy) for biopsy in biopsies if biopsy.bx_date in at_index):
        return "no_mutation"
    return "not_assessed"
