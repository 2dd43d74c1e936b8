"""The codebook of the analysis datasets (rules §8, version 2): one declaration per column name.

A column that is a raw field (`line_start`, `sex` ...) takes its label and codes from the data
dictionary; only derived columns are described here, each once, whichever datasets hold it
(`cohort` is in `lines` and `patients`). Codes shared with a dictionary field (`histology_at_start`,
`tki_generation`) are read from that field, not copied.
"""
from registry.derive import biopsies, survival
from registry.derive.results import Response, ResponseSource
from registry.models import AnalysisSettings, BiopsyDerivation, Patient, PatientDerivation, Site

from . import datasets
from .columns import BOOLEAN_CODES, Column, Kind, dictionary_codes, dictionary_column


def _stored_width(model, field: str) -> int:
    """A derived text column is as wide as the model field that stores it."""
    return model._meta.get_field(field).max_length


SITE_COLUMN = Column(
    "site", "Site (REDCap data access group) of the patient, by its site code", Kind.TEXT,
    source="registry site of the record", width=_stored_width(Site, "code"),
)

_RESPONSE_CODES = (
    (Response.CR.value, "Complete response"),
    (Response.PR.value, "Partial response"),
    (Response.SD.value, "Stable disease"),
    (Response.NON_CR_NON_PD.value, "Non-CR/Non-PD (non-target lesions only)"),
    (Response.PD.value, "Progressive disease"),
    (Response.NE.value, "Not evaluable"),
)
_PFS_CENSOR_CODES = (
    (survival.CENSORED_DEATH_AFTER_MISSED_ASSESSMENTS, "Death too long after the last adequate assessment"),
    (survival.CENSORED_NEW_THERAPY, "A next line started"),
    (survival.CENSORED_NO_ADEQUATE_ASSESSMENT, "No adequate assessment in the line's window"),
    (survival.CENSORED_CUTOFF, "Data cut-off"),
)
_TKI_GENERATION_CODES = dictionary_codes("line_tki_generation")
_OS_CENSOR_CODES = (
    (survival.OS_CENSORED_LAST_KNOWN_ALIVE, "Censored at the date last known alive"),
    (survival.OS_CENSORED_CUTOFF, "Censored at the data cut-off"),
)


def _derived(name: str, label: str, kind: Kind, rule: str, *, unit: str = "", codes=(),
             width: int | None = None) -> Column:
    if kind is Kind.BOOLEAN:
        codes = BOOLEAN_CODES
    return Column(name, label, kind, unit=unit, codes=tuple(codes), source=f"derived, rules {rule}", width=width)


ANALYSIS_COLUMNS: dict[str, Column] = {column.name: column for column in (
    # --- raw fields, as the dictionary describes them
    dictionary_column("record_id"),
    SITE_COLUMN,
    dictionary_column("line_no"),
    dictionary_column("line_type"),
    dictionary_column("line_drug"),
    dictionary_column("line_start"),
    dictionary_column("line_end"),
    dictionary_column("line_end_reason"),
    dictionary_column("line_ecog"),
    dictionary_column("line_cns_mets", name="cns_mets_at_start"),
    dictionary_column("ta_date"),
    dictionary_column("bx_date"),
    dictionary_column("sex"),
    dictionary_column("smoking"),
    dictionary_column("histology"),
    dictionary_column("cns_mets_dx"),
    dictionary_column("stage_dx"),
    dictionary_column("adv_dx_date"),
    dictionary_column("death_date", label="Date of death (blank when after the data cut-off, rules §0 v2)"),
    # --- lines (rules §1, §3-§6)
    _derived("tki_generation", "ALK TKI generation of the line (blank: not an ALK TKI line)", Kind.CODE, "§1",
             codes=_TKI_GENERATION_CODES),
    _derived("age_at_start", "Age at the start of the line, in completed years", Kind.INTEGER, "§0", unit="years"),
    _derived("histology_at_start", "Histology at the start of the line (latest adequate biopsy before it, else "
             "the diagnosis histology)", Kind.CODE, "§8", codes=dictionary_codes("histology")),
    _derived("baseline_date", "Date of the line's baseline tumour assessment", Kind.DATE, "§1"),
    _derived("cohort", "Study cohort of the patient", Kind.CODE, "§6", codes=(
        ("1", "Cohort 1: first-line alectinib with a progression"),
        ("2", "Cohort 2: first-line crizotinib, then a second-generation ALK TKI, each with a progression"),
    )),
    _derived("subsequent_to_index", "Line given after the index progression (blank: patient in no cohort)",
             Kind.BOOLEAN, "§6"),
    _derived("pd_date", "Date of the line's progression (first PD time point in its window)", Kind.DATE, "§3"),
    _derived("best_response", "Best overall response of the line, unconfirmed (blank: no follow-up assessment)",
             Kind.TEXT_CODE, "§8", codes=_RESPONSE_CODES),
    _derived("extent", "Extent of the progression (blank: no progression)", Kind.TEXT_CODE, "§3", codes=(
        ("oligo", "Oligo-progression: 1 to 3 progressing lesions, no extensive site"),
        ("extensive", "Extensive: more than 3 progressing lesions or an extensive site"),
        ("unknown", "Unknown: number of progressing lesions unknown"),
    )),
    _derived("n_progressing_lesions", "Number of progressing lesions at the progression", Kind.INTEGER, "§3",
             unit="lesions"),
    _derived("cns_progression", "Progression in the brain or leptomeninges", Kind.BOOLEAN, "§3"),
    _derived("cns_only_progression", "Progression in the brain or leptomeninges only", Kind.BOOLEAN, "§3"),
    _derived("symptomatic_progression", "Symptoms at the progression assessment", Kind.BOOLEAN, "§3"),
    _derived("symptomatic_cns_progression", "CNS progression with neurological symptoms", Kind.BOOLEAN, "§3"),
    _derived("local_therapy_for_pd", "Local therapy given for the progression", Kind.BOOLEAN, "§3"),
    _derived("continued_beyond_pd", "Line continued beyond the progression", Kind.BOOLEAN, "§3"),
    _derived("beyond_pd_days", "Days the line ran on after the progression (when continued)", Kind.INTEGER, "§3",
             unit="days"),
    _derived("pfs_days", "Progression-free survival of the line", Kind.INTEGER, "§4", unit="days"),
    _derived("pfs_months", "Progression-free survival of the line (days / days_per_month)", Kind.NUMBER, "§4",
             unit="months"),
    _derived("pfs_event", "PFS event (progression or death) rather than censored", Kind.BOOLEAN, "§4"),
    _derived("pfs_censor_reason", "Why PFS is censored (blank: an event)", Kind.TEXT_CODE, "§4",
             codes=_PFS_CENSOR_CODES),
    _derived("os_days", "Overall survival from the start of the line", Kind.INTEGER, "§5", unit="days"),
    _derived("os_months", "Overall survival from the start of the line (days / days_per_month)", Kind.NUMBER, "§5",
             unit="months"),
    _derived("os_event", "Death (OS event) rather than censored", Kind.BOOLEAN, "§5"),
    _derived("first_subsequent_line", "First line after the index progression (blank: patient in no cohort)",
             Kind.BOOLEAN, "§8 (v2)"),
    _derived("first_subsequent_tki_line", "First ALK TKI line after the index progression (blank: patient in no "
             "cohort)", Kind.BOOLEAN, "§8 (v2)"),
    _derived("compound_mutation_at_index", "Compound ALK kinase-domain mutation at the index resistance (blank: "
             "status at the index unknown or not assessed)", Kind.BOOLEAN, "§8 (v2)"),
    _derived("os_censor_reason", "Why OS is censored (blank: an event)", Kind.TEXT_CODE, "§5, §8 (v2)",
             codes=_OS_CENSOR_CODES),
    # --- endpoints (CDISC ADTTE style, §8)
    _derived("paramcd", "Endpoint", Kind.TEXT_CODE, "§8", codes=(
        ("PFS", "Progression-free survival of the line"), ("OS", "Overall survival from the start of the line"),
    )),
    _derived("startdt", "Start date of the time to event (the line's start)", Kind.DATE, "§8"),
    _derived("adt", "Date of the event or of the censoring", Kind.DATE, "§4, §5"),
    _derived("aval_days", "Time to the event or the censoring", Kind.INTEGER, "§4, §5", unit="days"),
    _derived("aval_months", "Time to the event or the censoring (days / days_per_month)", Kind.NUMBER, "§4, §5",
             unit="months"),
    _derived("cnsr", "Censored (CDISC CNSR)", Kind.CODE, "§8", codes=(("0", "Event"), ("1", "Censored"))),
    _derived("evntdesc", "Event or censoring description", Kind.TEXT_CODE, "§8", codes=(
        ("PROGRESSION", "PFS event: progression"),
        ("DEATH", "Event: death"),
        *((reason.upper(), f"PFS censored: {label}") for reason, label in _PFS_CENSOR_CODES),
        ("LAST KNOWN ALIVE", "OS censored at the date last known alive"),
        ("DATA CUTOFF", "OS censored at the data cut-off"),
    )),
    _derived("studyid", "Study identifier (CDISC STUDYID; the setting study_id)", Kind.TEXT, "§0, §8 (v2)",
             width=_stored_width(AnalysisSettings, "study_id")),
    # studyid, "-", the record id (a pseudonym, 16 characters, is shorter than a record id may be)
    _derived("usubjid", "Unique subject identifier (CDISC USUBJID): studyid-record_id", Kind.TEXT, "§8 (v2)",
             width=_stored_width(AnalysisSettings, "study_id") + 1 + _stored_width(Patient, "record_id")),
    _derived("subjid", "Subject identifier within the study (CDISC SUBJID): the record_id", Kind.TEXT, "§8 (v2)",
             width=_stored_width(Patient, "record_id")),
    _derived("siteid", "Site identifier (CDISC SITEID): the site code", Kind.TEXT, "§8 (v2)",
             width=_stored_width(Site, "code")),
    _derived("param", "Analysis parameter (CDISC PARAM), one to one with paramcd", Kind.TEXT_CODE, "§8 (v2)",
             codes=tuple((label, f"paramcd {code}") for code, label in datasets.ENDPOINT_PARAMETERS.items())),
    _derived("aval", "Analysis value (CDISC AVAL): the time to the event or the censoring, as aval_days",
             Kind.INTEGER, "§4, §5, §8 (v2)", unit="days"),
    _derived("avalu", "Unit of aval (CDISC AVALU)", Kind.TEXT_CODE, "§8 (v2)",
             codes=((datasets.AVAL_UNIT, "Days"),)),
    _derived("trtp", "Regimen of the line (CDISC TRTP): the dictionary's label of line_drug, in capitals",
             Kind.TEXT_CODE, "§8 (v2)",
             codes=tuple((label.upper(), f"line_drug {code}") for code, label in dictionary_codes("line_drug"))),
    _derived("cnsdtdsc", "What the censoring date is (CDISC CNSDTDSC; blank: an event)", Kind.TEXT_CODE, "§8 (v2)",
             codes=(
                 ("LAST ADEQUATE TUMOR ASSESSMENT", "PFS censored at the line's last adequate assessment"),
                 ("START OF LINE", "PFS censored at the line's start (no adequate assessment)"),
                 ("LAST KNOWN ALIVE", "OS censored at the date last known alive"),
                 ("DATA CUTOFF", "OS censored at the data cut-off"),
             )),
    _derived("srcdom", "Form the date adt was read from (CDISC SRCDOM)", Kind.TEXT_CODE, "§8 (v2)", codes=(
        ("tumor_assessment", "Tumor assessment"), ("treatment_line", "Treatment line"),
        ("vital_status", "Vital status"), ("biopsy", "Biopsy"), ("local_therapy", "Local therapy"),
        ("settings", "Analysis settings"),
    )),
    _derived("srcvar", "Field the date adt was read from (CDISC SRCVAR)", Kind.TEXT_CODE, "§8 (v2)", codes=(
        ("ta_date", "Date of the tumor assessment"), ("line_start", "Start of the line"),
        ("line_end", "End of a line"), ("death_date", "Date of death"),
        ("last_alive_date", "Date last known alive"), ("bx_date", "Date of a biopsy"),
        ("lt_date", "Date of a local therapy"), ("data_cutoff", "The data cut-off"),
    )),
    _derived("srcseq", "Repeat instance of the record adt was read from (CDISC SRCSEQ; blank: a form that does not "
             "repeat)", Kind.INTEGER, "§8 (v2)"),
    # --- assessments (§2)
    _derived("target_sum_mm", "Sum of the target lesions' diameters", Kind.NUMBER, "§2", unit="mm"),
    _derived("pct_change_baseline", "Change of the target sum from the baseline sum", Kind.NUMBER, "§2", unit="%"),
    _derived("pct_change_nadir", "Change of the target sum from the nadir", Kind.NUMBER, "§2", unit="%"),
    _derived("target_response", "Target lesion response (blank: the line has no target lesions)", Kind.TEXT_CODE,
             "§2", codes=_RESPONSE_CODES),
    _derived("nontarget_response", "Non-target lesion response (blank: the line has no non-target lesions)",
             Kind.TEXT_CODE, "§2", codes=_RESPONSE_CODES),
    _derived("new_lesions", "Unequivocal new lesions", Kind.BOOLEAN, "§2"),
    _derived("overall_response", "RECIST 1.1 overall time-point response", Kind.TEXT_CODE, "§2",
             codes=_RESPONSE_CODES),
    _derived("response_source", "Whether the response was derived from the lesions or taken as reported",
             Kind.TEXT_CODE, "§2", codes=(
                 (ResponseSource.DERIVED.value, "Derived from the line's lesion measurements"),
                 (ResponseSource.REPORTED.value, "The response reported by the physician or radiologist"),
             )),
    _derived("discrepancy", "Derived response differs from the reported one", Kind.BOOLEAN, "§2"),
    # --- biopsies (§7)
    _derived("phase", "Phase of the biopsy relative to the ALK TKI lines", Kind.TEXT_CODE, "§7", codes=(
        (biopsies.PHASE_NO_PRIOR_TKI_PD, "No ALK TKI progression before the biopsy"),
        (biopsies.PHASE_ON_TKI, "Taken during a later ALK TKI"),
        ("post_1g", "After progression on a first-generation ALK TKI"),
        ("post_2g", "After progression on a second-generation ALK TKI"),
        ("post_3g", "After progression on a third-generation ALK TKI"),
    )),
    _derived("alk_kd_mutations", "ALK kinase-domain mutations, normalised, in codon order, ';'-separated",
             Kind.TEXT, "§7", width=_stored_width(BiopsyDerivation, "alk_kd_mutations")),
    _derived("alk_compound", "Two or more distinct ALK kinase-domain mutations", Kind.BOOLEAN, "§7"),
    _derived("g1202r", "ALK G1202R found", Kind.BOOLEAN, "§7"),
    _derived("alk_independent", "ALK-independent resistance alterations, ';'-separated (of: "
             f"{', '.join(biopsies.ALK_INDEPENDENT_ORDER)})", Kind.TEXT, "§7",
             width=_stored_width(BiopsyDerivation, "alk_independent")),
    _derived("transformation", "Histological transformation (blank: none)", Kind.TEXT_CODE, "§7", codes=(
        ("squamous", "Squamous cell transformation"), ("small_cell", "Small cell transformation"),
    )),
    _derived("mechanism_category", "Resistance mechanism category", Kind.TEXT_CODE, "§7", codes=(
        ("alk_kd_mutation", "ALK kinase-domain mutation"),
        ("transformation", "Histological transformation"),
        ("alk_independent", "ALK-independent mechanism"),
        ("none_identified", "NGS on an adequate sample, no mechanism identified"),
        ("not_assessed", "Not assessed"),
    )),
    _derived("at_index_resistance", "Biopsy taken at the index resistance, counted in alk_mut_status_at_index "
             "(blank: patient in no cohort)", Kind.BOOLEAN, "§7, §8 (v2)"),
    # --- patients (§5-§7)
    _derived("age_at_adv_dx", "Age at the diagnosis of advanced disease, in completed years", Kind.INTEGER, "§0",
             unit="years"),
    _derived("tki_sequence", "The patient's ALK TKI lines in order, '>'-separated", Kind.TEXT, "§6",
             width=_stored_width(PatientDerivation, "tki_sequence")),
    _derived("index_pd_date", "Date of the index progression (blank: patient in no cohort)", Kind.DATE, "§6"),
    _derived("alk_mut_status_at_index", "ALK kinase-domain mutation status at the index resistance", Kind.TEXT_CODE,
             "§7", codes=(
                 ("mutation", "An ALK kinase-domain mutation"),
                 ("no_mutation", "NGS on an adequate sample, no ALK kinase-domain mutation"),
                 ("not_assessed", "Not assessed (including no biopsy)"),
             )),
    _derived("os_dx_days", "Overall survival from the diagnosis of advanced disease", Kind.INTEGER, "§5",
             unit="days"),
    _derived("os_dx_months", "Overall survival from the diagnosis of advanced disease (days / days_per_month)",
             Kind.NUMBER, "§5", unit="months"),
    _derived("os_dx_event", "Death (OS event) rather than censored, from the diagnosis", Kind.BOOLEAN, "§5"),
    _derived("last_known_alive_date", "Date last known alive, capped at the data cut-off (blank: died on or before "
             "it)", Kind.DATE, "§5, §8 (v2)"),
    _derived("n_lines", "Number of lines started on or before the data cut-off", Kind.INTEGER, "§8 (v2)",
             unit="lines"),
)}
