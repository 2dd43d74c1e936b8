"""The one entry point: `derive_patient(record, settings)`, every rule of version 2 for one patient."""
from __future__ import annotations

from dataclasses import replace

from .biopsies import (
    TkiProgression, alk_mutation_status_at_index, biopsy_phase, derive_biopsy, index_resistance_biopsy_dates,
)
from .cohorts import assign_cohort, first_subsequent_lines, subsequent_to_index, tki_sequence
from .inputs import PatientRecord
from .lines import (
    baseline_assessment, completed_years, follow_up_assessments, histology_at_start, is_alk_tki,
    line_windows, lines_in_order, on_or_before_cutoff, tki_drug_name, tki_generation, type_unknown,
)
from .progression import (
    best_response_timepoint, continued_beyond_progression, local_therapy_for_progression, progression_labels,
    progression_position,
)
from .quality import data_quality_flags
from .recist import evaluate_line, measurements_by_date
from .results import DateSource, LineResult, PatientDerivation
from .settings import AnalysisSettings
from .survival import (
    CUTOFF_SOURCE, DEATH_SOURCE, OS_CENSORED_CUTOFF, PFS_EVENT_DEATH, PFS_EVENT_PROGRESSION, TimeToEvent,
    last_known_alive_at_cutoff, last_known_alive_source, months, overall_survival, progression_free_survival,
)


def derive_patient(record: PatientRecord, settings: AnalysisSettings) -> PatientDerivation:
    """Derive §1-§7 and the §0 flags for one patient. Pure: the same input gives the same output."""
    cutoff = settings.data_cutoff
    # §0: lines, assessments, biopsies and local therapy dated after the cut-off are ignored.
    assessments = tuple(a for a in record.assessments if on_or_before_cutoff(a.ta_date, cutoff))
    biopsies = tuple(sorted((b for b in record.biopsies if on_or_before_cutoff(b.bx_date, cutoff)),
                            key=lambda b: b.bx_date))
    local_therapies = tuple(lt for lt in record.local_therapies if on_or_before_cutoff(lt.lt_date, cutoff))
    ordered_lines = lines_in_order(record.lines, cutoff)
    alive_since = last_known_alive_source(record)
    alive_until = alive_since[0] if alive_since else None
    assessment_instances = {a.ta_date: a.instance for a in assessments}
    measured_by_date = measurements_by_date(record.measurements)  # once for all the lines

    partial_lines = []
    for window in line_windows(ordered_lines, cutoff):
        line = window.line
        baseline = baseline_assessment(assessments, line.line_start, settings.baseline_window_days)
        follow_ups = follow_up_assessments(assessments, window)
        responses = evaluate_line(line.line_no, record.lesions, record.measurements, baseline, follow_ups,
                                  measured_by_date=measured_by_date)
        timepoints = responses.timepoints
        position = progression_position(timepoints)  # find_progression(), and where it is
        progression = timepoints[position] if position is not None else None
        best = best_response_timepoint(timepoints, line.line_start, progression, settings.sd_min_days,
                                       position=position)

        labels = continued = beyond_days = local_therapy = None
        if progression is not None:
            earlier = timepoints[:position]
            labels = progression_labels(progression, responses.baseline_target_readings, earlier,
                                        settings.lesion_progression_min_mm)
            local_therapy = local_therapy_for_progression(
                local_therapies, labels.pd_date, window.next_line_start, labels.involved_sites,
                settings.local_therapy_window_days, involved_site_unknown=labels.involved_site_unknown)
            continued, beyond_days = continued_beyond_progression(
                line, labels.pd_date, cutoff, settings.beyond_pd_min_days)

        pfs = os = None
        if cutoff is not None:
            pfs = progression_free_survival(
                line_start=line.line_start,
                pd_date=labels.pd_date if labels else None,
                adequate_assessment_dates=tuple(tp.assessment.ta_date for tp in timepoints if tp.result.adequate),
                next_line_start=window.next_line_start,
                death_date=record.death_date,
                data_cutoff=cutoff,
                death_window_days=settings.death_window_days,
                pfs_death_is_event=settings.pfs_death_is_event,
            )
            os = overall_survival(start=line.line_start, death_date=record.death_date,
                                  last_known_alive_date=alive_until, data_cutoff=cutoff)

        partial_lines.append(dict(
            line_no=line.line_no,
            line_type=line.line_type,
            line_drug=line.line_drug,
            line_start=line.line_start,
            line_end=line.line_end,
            tki_generation=tki_generation(line),
            tki_drug_name=tki_drug_name(line),
            next_line_start=window.next_line_start,
            age_at_start=completed_years(record.birth_date, line.line_start),
            histology_at_start=histology_at_start(biopsies, line.line_start, record.histology),
            baseline_date=baseline.ta_date if baseline else None,
            assessments=tuple(tp.result for tp in timepoints),
            best_response=best[0] if best else None,
            best_response_date=best[1].assessment.ta_date if best else None,
            baseline_sum_mm=responses.baseline_sum_mm,
            pd_date=labels.pd_date if labels else None,
            extent=labels.extent if labels else None,
            n_progressing_lesions=labels.n_progressing_lesions if labels else None,
            involved_sites=labels.involved_sites if labels else None,
            cns_progression=labels.cns_progression if labels else None,
            cns_only_progression=labels.cns_only_progression if labels else None,
            symptomatic_progression=labels.symptomatic_progression if labels else None,
            symptomatic_cns_progression=labels.symptomatic_cns_progression if labels else None,
            local_therapy_for_pd=local_therapy,
            continued_beyond_pd=continued,
            beyond_pd_days=beyond_days,
            pfs_date=pfs.end_date if pfs else None,
            pfs_days=pfs.days if pfs else None,
            pfs_months=months(pfs.days, settings.days_per_month) if pfs else None,
            pfs_event=pfs.event if pfs else None,
            pfs_event_type=pfs.event_type if pfs else None,
            pfs_censor_reason=pfs.censor_reason if pfs else None,
            os_date=os.end_date if os else None,
            os_days=os.days if os else None,
            os_months=months(os.days, settings.days_per_month) if os else None,
            os_event=os.event if os else None,
            os_censor_reason=os.censor_reason if os else None,
            pfs_source=pfs_source(pfs, line, assessment_instances) if pfs else None,
            os_source=os_source(os, alive_since) if os else None,
        ))

    # §6 cohorts.
    pd_dates = {fields["line_no"]: fields["pd_date"] for fields in partial_lines}
    assignment = assign_cohort(ordered_lines, pd_dates)
    subsequent = {line.line_no: subsequent_to_index(line, assignment) for line in ordered_lines}
    first_subsequent = first_subsequent_lines(ordered_lines, subsequent, tki_only=False)
    first_subsequent_tki = first_subsequent_lines(ordered_lines, subsequent, tki_only=True)
    line_results = tuple(
        LineResult(**fields, subsequent_to_index=subsequent[line.line_no],
                   first_subsequent_line=first_subsequent[line.line_no],
                   first_subsequent_tki_line=first_subsequent_tki[line.line_no])
        for line, fields in zip(ordered_lines, partial_lines)
    )

    # §7 biopsies.
    # A line of unknown type (§0 v2) may be an ALK TKI line: biopsy_phase() weighs it as such a maybe.
    tki_lines = tuple(TkiProgression(line=line, generation=tki_generation(line), pd_date=pd_dates[line.line_no],
                                     type_unknown=type_unknown(line))
                      for line in ordered_lines if is_alk_tki(line) or type_unknown(line))
    biopsy_results = {
        biopsy.bx_date: derive_biopsy(biopsy, record.variants, record.histology,
                                      biopsy_phase(biopsy.bx_date, tki_lines, settings.biopsy_lookback_days))
        for biopsy in biopsies
    }
    alk_mut_status = compound_at_index = None
    if assignment.index_line is not None:
        index_position = ordered_lines.index(assignment.index_line)
        following = [line for line in ordered_lines[index_position + 1:] if is_alk_tki(line) or type_unknown(line)]
        next_tki_start = following[0].line_start if following else None
        at_index = index_resistance_biopsy_dates(
            biopsies, biopsy_results, tki_generation(assignment.index_line), assignment.index_pd_date,
            next_tki_start, settings.biopsy_lookback_days)
        alk_mut_status = alk_mutation_status_at_index(biopsies, biopsy_results, at_index)
        if following and type_unknown(following[0]):
            # §0 (v2) and §7: the index resistance ends at the next ALK TKI line's start; a line of unknown
            # type may be that line, so which biopsies belong to it is unknown: the status is blank.
            alk_mut_status = None
        biopsy_results = {day: replace(result, at_index_resistance=day in at_index)
                          for day, result in biopsy_results.items()}
        compound_at_index = compound_mutation_at_index(
            [biopsy_results[day] for day in sorted(at_index)], alk_mut_status)

    # §5 OS from the diagnosis of advanced disease.
    os_dx = None
    if cutoff is not None and record.adv_dx_date is not None:
        os_dx = overall_survival(start=record.adv_dx_date, death_date=record.death_date,
                                 last_known_alive_date=alive_until, data_cutoff=cutoff)

    return PatientDerivation(
        record_id=record.record_id,
        rules_version=settings.rules_version,
        settings=settings,
        age_at_adv_dx=completed_years(record.birth_date, record.adv_dx_date),
        cohort=assignment.cohort,
        tki_sequence=tki_sequence(ordered_lines),
        index_line_no=assignment.index_line.line_no if assignment.index_line else None,
        index_pd_date=assignment.index_pd_date,
        alk_mut_status_at_index=alk_mut_status,
        os_dx_date=os_dx.end_date if os_dx else None,
        os_dx_days=os_dx.days if os_dx else None,
        os_dx_months=months(os_dx.days, settings.days_per_month) if os_dx else None,
        os_dx_event=os_dx.event if os_dx else None,
        os_dx_censor_reason=os_dx.censor_reason if os_dx else None,
        lines=line_results,
        biopsies=tuple(biopsy_results[biopsy.bx_date] for biopsy in biopsies),
        flags=data_quality_flags(record, line_results, cutoff),
        last_known_alive_date=last_known_alive_at_cutoff(record, cutoff),
        compound_mutation_at_index=compound_at_index,
        n_lines=len(ordered_lines),  # §0: lines_in_order() left out those started after the cut-off
    )


def pfs_source(pfs: TimeToEvent, line, assessment_instances: dict) -> DateSource:
    """§8 (v2): the record and field PFS's date came from: the progression's or the last adequate
    assessment, the death, or the line's start (censored without an adequate assessment, 0 days)."""
    if pfs.event_type == PFS_EVENT_DEATH:
        return DEATH_SOURCE
    if pfs.event_type == PFS_EVENT_PROGRESSION or pfs.end_date != line.line_start:
        return DateSource("tumor_assessment", "ta_date", assessment_instances.get(pfs.end_date))
    # An adequate assessment is never on the start day (the window excludes it, §1).
    return DateSource("treatment_line", "line_start", line.instance)


def os_source(os: TimeToEvent, alive_since) -> DateSource:
    """§8 (v2): OS's date came from the death, the cut-off, or the field that gave the date last known alive."""
    if os.event:
        return DEATH_SOURCE
    if os.censor_reason == OS_CENSORED_CUTOFF or alive_since is None:
        return CUTOFF_SOURCE
    return alive_since[1]


def compound_mutation_at_index(at_index: list, alk_mut_status: str | None) -> bool | None:
    """§8 (v2): True when a biopsy at the index resistance has a compound ALK mutation; else False when
    the status at the index is `mutation` or `no_mutation`; None otherwise.

    Spec ambiguity (§0 v2): a sequenced biopsy at the index whose compound label is unknown (a variant of
    unknown gene or kind) may have one: then None rather than False.
    """
    if any(result.alk_compound for result in at_index):
        return True
    if alk_mut_status not in ("mutation", "no_mutation"):
        return None
    if any(result.alk_compound is None and result.alk_kd_mutations is None
           and result.mechanism_category == "" for result in at_index):
        return None
    return False
