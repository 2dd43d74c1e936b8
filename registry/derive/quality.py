"""§0 data-quality flags: listed per patient for coordinators to fix; derivation still runs."""
from __future__ import annotations

from collections import Counter
from datetime import date

from .codes import LesionClass, LineEndReason, MeasurementStatus, NON_MEASURABLE_SITES, VitalStatus, YesNo
from .inputs import PatientRecord
from .results import DataQualityFlag, LineResult

LINE_NUMBERS_NOT_IN_START_ORDER = "line_numbers_not_in_start_order"
LINES_SAME_START = "lines_same_start"
ASSESSMENTS_SAME_DATE = "assessments_same_date"
BIOPSIES_SAME_DATE = "biopsies_same_date"
MEASUREMENT_WITHOUT_ASSESSMENT = "measurement_without_assessment"
MEASUREMENT_WITHOUT_LESION = "measurement_without_lesion"
TARGET_AT_NON_MEASURABLE_SITE = "target_at_non_measurable_site"
TARGET_WITH_NON_TARGET_STATUS = "target_with_non_target_status"
PROGRESSION_END_WITHOUT_PD = "progression_end_without_pd"
DEAD_WITHOUT_DEATH_DATE = "dead_without_death_date"
DEATH_DATE_WITHOUT_DEAD = "death_date_without_dead"
DATE_AFTER_DEATH = "date_after_death"
RESPONSE_DISCREPANCY = "response_discrepancy"
# §0 (v2): each field whose missing-data code the derivation reads as unknown is flagged.
NEW_LESIONS_CODED = "new_lesions_coded"
LINE_END_CODED = "line_end_coded"
DEATH_DATE_CODED = "death_date_coded"
# ... and each required field whose code the derivation reads as unknown (issue 12 §4 follow-up).
ADV_DX_DATE_CODED = "adv_dx_date_coded"
LINE_TYPE_CODED = "line_type_coded"
LINE_DRUG_CODED = "line_drug_coded"
LESION_CLASS_CODED = "lesion_class_coded"
LESION_SITE_CODED = "lesion_site_coded"
MEASUREMENT_STATUS_CODED = "measurement_status_coded"
VARIANT_CODED = "variant_coded"
# ... and a checkbox field's (issue 12 §4: a checkbox takes one code for the whole field).
NEW_SITES_CODED = "new_sites_coded"

# §0 flag codes as coordinators read them, in the order the derivation raises them (the admin's
# data-quality page and the workspace's worklist name the flags so).
FLAG_LABELS = {
    LINE_NUMBERS_NOT_IN_START_ORDER: "Line numbers not in start-date order",
    LINES_SAME_START: "Two lines start the same day",
    ASSESSMENTS_SAME_DATE: "Two assessments on one date",
    BIOPSIES_SAME_DATE: "Two biopsies on one date",
    MEASUREMENT_WITHOUT_ASSESSMENT: "Measurement dated on no assessment",
    MEASUREMENT_WITHOUT_LESION: "Measurement naming no lesion",
    TARGET_AT_NON_MEASURABLE_SITE: "Target lesion at a non-measurable site",
    TARGET_WITH_NON_TARGET_STATUS: "Target lesion with a non-target status",
    PROGRESSION_END_WITHOUT_PD: "Line ended for progression without a PD time point",
    DEAD_WITHOUT_DEATH_DATE: "Dead without a date of death",
    DEATH_DATE_WITHOUT_DEAD: "Date of death but not Dead",
    DATE_AFTER_DEATH: "Date after the date of death",
    RESPONSE_DISCREPANCY: "Reported and derived responses differ",
    NEW_LESIONS_CODED: "New lesions unknown (missing-data code)",
    NEW_SITES_CODED: "Sites of new lesions unknown (missing-data code)",
    LINE_END_CODED: "Line end date unknown (missing-data code)",
    DEATH_DATE_CODED: "Dead, date of death unknown (missing-data code)",
    ADV_DX_DATE_CODED: "Date of advanced diagnosis unknown (missing-data code)",
    LINE_TYPE_CODED: "Line type unknown (missing-data code)",
    LINE_DRUG_CODED: "Line regimen unknown (missing-data code)",
    LESION_CLASS_CODED: "Lesion target or non-target unknown (missing-data code)",
    LESION_SITE_CODED: "Lesion site unknown (missing-data code)",
    MEASUREMENT_STATUS_CODED: "Measurement status unknown (missing-data code)",
    VARIANT_CODED: "Variant gene or alteration unknown (missing-data code)",
}


# Bound once (reading an enum member off its class is a descriptor call): the measurement loop below
# asks them of every measurement of the patient.
_TARGET = LesionClass.TARGET
_NON_TARGET_STATUSES = (MeasurementStatus.UNEQUIVOCAL_PROGRESSION, MeasurementStatus.PRESENT_NOT_MEASURED)


def _same_day_duplicates(days: list[date]) -> list[date]:
    return sorted(day for day, count in Counter(days).items() if count > 1)


def data_quality_flags(
    record: PatientRecord, line_results: tuple[LineResult, ...], data_cutoff: date | None
) -> tuple[DataQualityFlag, ...]:
    """§0 flags, each once, in a fixed order. Flags on raw data look at every record (also after the
    cut-off); the two on derived results (progression end, discrepancy) at what was derived."""
    flags: list[DataQualityFlag] = []

    def flag(code: str, message: str, form: str, instance: str) -> None:
        flags.append(DataQualityFlag(code=code, message=message, form=form, instance=instance))

    # §0/§1: line numbers not equal to the start-date order (ties by line_no).
    ordered = sorted(record.lines, key=lambda line: (line.line_start, line.line_no))
    if [line.line_no for line in ordered] != list(range(1, len(ordered) + 1)):
        flag(LINE_NUMBERS_NOT_IN_START_ORDER,
             "Line numbers do not follow the start dates: by start date the lines are numbered "
             + ", ".join(str(line.line_no) for line in ordered) + ".",
             "treatment_line", "all lines")
    for day in _same_day_duplicates([line.line_start for line in record.lines]):
        numbers = ", ".join(str(line.line_no) for line in ordered if line.line_start == day)
        flag(LINES_SAME_START, f"Lines {numbers} start on the same day ({day.isoformat()}).",
             "treatment_line", day.isoformat())
    for day in _same_day_duplicates([a.ta_date for a in record.assessments]):
        flag(ASSESSMENTS_SAME_DATE, f"Two tumour assessments are dated {day.isoformat()}; one time point "
             "is one assessment.", "tumor_assessment", day.isoformat())
    for day in _same_day_duplicates([b.bx_date for b in record.biopsies]):
        flag(BIOPSIES_SAME_DATE, f"Two biopsies are dated {day.isoformat()}; one biopsy per date.",
             "biopsy", day.isoformat())

    assessment_dates = {a.ta_date for a in record.assessments}
    lesions_by_id = {lesion.les_id: lesion for lesion in record.lesions}
    for m in record.measurements:
        lesion = lesions_by_id.get(m.lm_lesion)
        if (lesion is not None and m.lm_date in assessment_dates
                and not (lesion.les_class == _TARGET and m.lm_status in _NON_TARGET_STATUSES)):
            continue  # none of the three flags below: the common case, without building their texts
        instance = f"{m.lm_lesion} {m.lm_date.isoformat()}"
        if m.lm_date not in assessment_dates:
            flag(MEASUREMENT_WITHOUT_ASSESSMENT, f"Measurement of {m.lm_lesion} on {m.lm_date.isoformat()} is "
                 "dated on no tumour assessment.", "lesion_measurement", instance)
        if lesion is None:
            flag(MEASUREMENT_WITHOUT_LESION, f"Measurement on {m.lm_date.isoformat()} names lesion "
                 f"'{m.lm_lesion}', which is not recorded.", "lesion_measurement", instance)
        elif lesion.les_class == _TARGET and m.lm_status in _NON_TARGET_STATUSES:
            flag(TARGET_WITH_NON_TARGET_STATUS, f"Target lesion {m.lm_lesion} has a non-target status on "
                 f"{m.lm_date.isoformat()}; a target lesion is measured (its value is unknown here).",
                 "lesion_measurement", instance)
    for lesion in record.lesions:
        if lesion.les_class == LesionClass.TARGET and lesion.les_site in NON_MEASURABLE_SITES:
            flag(TARGET_AT_NON_MEASURABLE_SITE, f"Target lesion {lesion.les_id} is at a non-measurable site "
                 "(effusion, lymphangitis, leptomeninges or ascites).", "lesion", lesion.les_id)

    # Spec ambiguity: a line that ended after the cut-off may have progressed after it too, so only
    # lines ended on or before the cut-off are checked for a PD time point.
    line_by_no = {line.line_no: line for line in record.lines}
    for result in line_results:
        line = line_by_no.get(result.line_no)
        if (line is not None and line.line_end_reason == LineEndReason.PROGRESSION and result.pd_date is None
                and line.line_end is not None and (data_cutoff is None or line.line_end <= data_cutoff)):
            flag(PROGRESSION_END_WITHOUT_PD, f"Line {line.line_no} ended for progression but none of its "
                 "assessments is a RECIST progression.", "treatment_line", f"line {line.line_no}")

    if record.vital == VitalStatus.DEAD and record.death_date is None and not record.death_date_missing:
        flag(DEAD_WITHOUT_DEATH_DATE, "Vital status is Dead but the date of death is blank.",
             "vital_status", "vital_status")
    if record.death_date is not None and record.vital != VitalStatus.DEAD:
        flag(DEATH_DATE_WITHOUT_DEAD, "A date of death is recorded but vital status is not Dead.",
             "vital_status", "vital_status")
    if record.death_date is not None:
        dated = [("vital_status", "last_alive_date", record.last_alive_date)]
        for line in record.lines:
            dated += [("treatment_line", f"line {line.line_no} start", line.line_start),
                      ("treatment_line", f"line {line.line_no} end", line.line_end)]
        dated += [("tumor_assessment", "assessment", a.ta_date) for a in record.assessments]
        dated += [("biopsy", "biopsy", b.bx_date) for b in record.biopsies]
        dated += [("local_therapy", "local therapy", lt.lt_date) for lt in record.local_therapies]
        for form, what, day in dated:
            if day is not None and day > record.death_date:
                flag(DATE_AFTER_DEATH, f"The {what} date {day.isoformat()} is after the date of death "
                     f"{record.death_date.isoformat()}.", form, f"{what} {day.isoformat()}")

    for result in line_results:
        for assessment in result.assessments:
            if assessment.discrepancy:
                flag(RESPONSE_DISCREPANCY, f"Line {result.line_no}, assessment {assessment.ta_date.isoformat()}: "
                     f"the response derived from the lesions ({assessment.overall_response.value}) differs "
                     "from the reported response.", "tumor_assessment", assessment.ta_date.isoformat())

    # §0 (v2): a missing-data code read as unknown is flagged, so that a coordinator may find the value.
    for assessment in record.assessments:
        if assessment.ta_new_lesion is None and assessment.ta_new_lesion_missing:
            flag(NEW_LESIONS_CODED, f"Assessment {assessment.ta_date.isoformat()}: 'unequivocal new lesion(s)' holds "
                 f"the missing-data code {assessment.ta_new_lesion_missing}; new lesions are unknown, so the response "
                 "is NE unless the target or non-target lesions give PD.",
                 "tumor_assessment", assessment.ta_date.isoformat())
        if assessment.ta_new_lesion == YesNo.YES and assessment.ta_new_sites_missing:
            flag(NEW_SITES_CODED, f"Assessment {assessment.ta_date.isoformat()}: the sites of the new lesions hold "
                 f"the missing-data code {assessment.ta_new_sites_missing}; at a progression the sites involved, "
                 "CNS progression and the extent are blank unless decided without them.",
                 "tumor_assessment", assessment.ta_date.isoformat())
    for line in record.lines:
        if line.end_unknown:
            flag(LINE_END_CODED, f"Line {line.line_no}: the end date holds the missing-data code "
                 f"{line.line_end_missing}; how long the line ran on after a progression is unknown.",
                 "treatment_line", f"line {line.line_no}")
    if record.vital == VitalStatus.DEAD and record.death_date is None and record.death_date_missing:
        flag(DEATH_DATE_CODED, f"Vital status is Dead and the date of death holds the missing-data code "
             f"{record.death_date_missing}; overall survival is censored at the date last known alive.",
             "vital_status", "vital_status")
    # Required fields hold a value or a code, so a blank one here is a code (registry/derive/inputs.py).
    if record.adv_dx_date is None and record.adv_dx_date_missing:
        flag(ADV_DX_DATE_CODED, f"The date of diagnosis of advanced disease holds the missing-data code "
             f"{record.adv_dx_date_missing}; overall "
             "survival from diagnosis and the age at diagnosis are blank.", "enrollment", "enrollment")
    for line in sorted(record.lines, key=lambda line: line.line_no):
        if line.line_type is None:
            flag(LINE_TYPE_CODED, f"Line {line.line_no}: the type of therapy holds a missing-data code; whether "
                 "it is an ALK TKI line is unknown, so the TKI sequence, and the cohort, phases and index resistance "
                 "it could change, are blank.", "treatment_line", f"line {line.line_no}")
        if line.line_drug is None:
            flag(LINE_DRUG_CODED, f"Line {line.line_no}: the regimen holds a missing-data code; a TKI's name and "
                 "generation, and the labels that need them, are blank.", "treatment_line", f"line {line.line_no}")
    for lesion in sorted(record.lesions, key=lambda lesion: lesion.les_id):
        if lesion.les_class is None:
            flag(LESION_CLASS_CODED, f"Lesion {lesion.les_id}: target or non-target holds a missing-data code; "
                 f"line {lesion.les_line}'s target response is NE, and the response is PD only from non-target or "
                 "new lesions.", "lesion", lesion.les_id)
        if lesion.les_site is None:
            flag(LESION_SITE_CODED, f"Lesion {lesion.les_id}: the site holds a missing-data code; whether it is a "
                 "lymph node, and the sites involved at a progression, are unknown.", "lesion", lesion.les_id)
    for m in record.measurements:
        if m.lm_status is None:
            flag(MEASUREMENT_STATUS_CODED, f"Measurement of {m.lm_lesion} on {m.lm_date.isoformat()}: the status "
                 "holds a missing-data code; the lesion is read as not evaluated (its value unknown).",
                 "lesion_measurement", f"{m.lm_lesion} {m.lm_date.isoformat()}")
    for v in record.variants:
        if not v.var_gene.strip() or v.var_kind is None:
            flag(VARIANT_CODED, f"A variant of the biopsy dated {v.var_bx_date.isoformat()}: the gene or the "
                 "alteration holds a missing-data code; the biopsy's mutation lists and mechanism are blank unless "
                 "an ALK kinase-domain mutation is known.", "ngs_variant", v.var_bx_date.isoformat())
    return tuple(flags)
