"""What the REST API reads: the records a user may see, with their versions, in batches of fixed cost.

Every function narrows to the user's sites through the one access rule (registry/selectors/access.py):
another site's records are never found, listed, filtered or counted, whatever the parameters.

    api_patients(user, site_code=, updated_since=, cohort=)   the visible patients (a queryset)
    api_patient(user, record_id)                               one, or None
    record_instances(patients, forms)                          their instrument instances, one query each
    deletions_since(user, since, site_code=)                   what was deleted (or moved away) since
    derived_results(patient)                                   the patient's stored derivations
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from registry.models import (
    AssessmentDerivation, BiopsyDerivation, LineDerivation, Patient, PatientDerivation,
)
from registry.records.instruments import INSTRUMENTS
from registry.selectors.access import access_for, restrict_to_visible


def api_patients(
    user, *, site_code: str | None = None, updated_since: datetime | None = None, cohort: int | None = None,
) -> QuerySet[Patient]:
    """The patients `user` sees, with their site, `version_number` and `record_updated_at` (when a door
    last wrote anything of the record: the patient or any instrument instance; for a record no door
    wrote since it was created, the patient row's own time). One query when evaluated."""
    patients = restrict_to_visible(Patient.objects.all(), user, site_path="site_id")
    patients = patients.select_related("site").annotate(
        version_number=F("record_version__number"),
        record_updated_at=Coalesce(F("record_version__changed_at"), F("updated_at")),
    )
    if site_code is not None:
        patients = patients.filter(site__code=site_code)
    if updated_since is not None:
        patients = patients.filter(record_updated_at__gte=updated_since)
    if cohort is not None:
        patients = patients.filter(derivation__cohort=cohort)
    return patients


def api_patient(user, record_id: str) -> Patient | None:
    return api_patients(user).filter(record_id=record_id).first()


def record_instances(patient_ids: list[int], forms) -> dict[str, dict[int, list]]:
    """{form: {patient id: [instances by instance number]}}: one query per form, with the assessment,
    lesion or biopsy each measurement or variant names."""
    found: dict[str, dict[int, list]] = {}
    for form in forms:
        instrument = INSTRUMENTS[form]
        related = [reference.attribute for reference in instrument.references.values()]
        by_patient: dict[int, list] = defaultdict(list)
        for instance in (instrument.model.objects.filter(patient_id__in=patient_ids).select_related(*related)
                         .order_by("patient_id", "redcap_repeat_instance")):
            by_patient[instance.patient_id].append(instance)
        found[form] = by_patient
    return found


def visible_instances(user, form: str, patient: Patient, *, updated_since: datetime | None = None) -> QuerySet:
    """One patient's instances of a repeating instrument (the patient already found visible)."""
    instrument = INSTRUMENTS[form]
    instances = restrict_to_visible(instrument.model.objects.filter(patient=patient), user,
                                    site_path="patient__site_id")
    instances = instances.select_related(*(reference.attribute for reference in instrument.references.values()))
    if updated_since is not None:
        instances = instances.filter(updated_at__gte=updated_since)
    return instances


@dataclass(frozen=True)
class Deletion:
    record_id: str
    instrument: str | None  # None: the whole record
    instance: int | None
    deleted_at: datetime

    @property
    def order_key(self) -> tuple[datetime, str, str, int]:
        """The feed's order: oldest first, by record, a whole record ("") before any instance."""
        return (self.deleted_at, self.record_id, self.instrument or "", self.instance or 0)


def deletions_since(user, since: datetime, *, site_code: str | None = None,
                    after: tuple | None = None) -> list[Deletion]:
    """What a site mirroring its records must remove, read from the audit trail's history tables:

    - whole records that the user could see at some time and no longer sees, changed since `since`:
      deleted, or moved to a site the user does not see (reported under the record ID the user last
      saw, with nothing of the other site);
    - instrument instances deleted since `since` from records the user sees now, unless an instance
      with the same number exists again.

    `site_code` keeps only records (last seen) at that site. In `Deletion.order_key` order; `after`
    (a page's last order_key) keeps only what comes after it, and the history is read only from its
    time on. Three queries for the records, then one per repeating instrument, and two more per
    instrument with deletions.
    """
    if access_for(user).role is None:
        return []
    if after is not None:
        since = max(since, after[0])
    seen = restrict_to_visible(Patient.history.all(), user, site_path="site_id")
    if site_code is not None:
        seen = seen.filter(site__code=site_code)
    visible = api_patients(user, site_code=site_code).values("id")
    last_change: dict[int, datetime] = {}
    for patient_id, when in (Patient.history.filter(id__in=seen.values("id"), history_date__gte=since)
                             .exclude(id__in=visible).order_by("history_date").values_list("id", "history_date")):
        last_change[patient_id] = when
    last_seen_record_id = dict(
        seen.filter(id__in=list(last_change)).order_by("id", "history_date", "history_id")
        .values_list("id", "record_id")
    ) if last_change else {}
    deletions = [
        Deletion(last_seen_record_id[patient_id], None, None, when) for patient_id, when in last_change.items()
    ]
    for form, instrument in INSTRUMENTS.items():
        if not instrument.repeating:
            continue
        model = instrument.model
        deleted = list(model.history.filter(history_type="-", history_date__gte=since, patient_id__in=visible)
                       .values_list("patient_id", "redcap_repeat_instance", "history_date"))
        if not deleted:
            continue
        patient_ids = {patient_id for patient_id, _, _ in deleted}
        existing = set(
            model.objects.filter(patient_id__in=patient_ids).values_list("patient_id", "redcap_repeat_instance")
        )
        record_ids = dict(Patient.objects.filter(id__in=patient_ids).values_list("id", "record_id"))
        deletions.extend(
            Deletion(record_ids[patient_id], form, instance, when) for patient_id, instance, when in deleted
            if (patient_id, instance) not in existing
        )
    deletions.sort(key=lambda deletion: deletion.order_key)
    if after is not None:
        deletions = [deletion for deletion in deletions if deletion.order_key > after]
    return deletions


@dataclass(frozen=True)
class DerivedResults:
    patient: PatientDerivation | None
    lines: list[LineDerivation]
    assessments: list[AssessmentDerivation]
    biopsies: list[BiopsyDerivation]


def derived_results(patient: Patient) -> DerivedResults:
    """The patient's stored derivations (four queries); nothing is derived here."""
    return DerivedResults(
        patient=PatientDerivation.objects.filter(patient=patient).first(),
        lines=list(LineDerivation.objects.filter(patient=patient).order_by("line_no")),
        assessments=list(AssessmentDerivation.objects.filter(patient=patient).order_by("line_no", "ta_date")),
        biopsies=list(BiopsyDerivation.objects.filter(patient=patient).order_by("bx_date")),
    )
