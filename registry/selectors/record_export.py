"""Which patients a flat-record export holds, for the REDCap-compatible API: those the user may see
(the one access rule), optionally only the listed record IDs and only those created or changed in
a time window.

"Changed" is read from the audit trail, as REDCap reads its log for dateRangeBegin/dateRangeEnd: a
patient is in the window when any history row of the patient or of one of its instrument instances
(created, changed or deleted) falls in it.
"""
from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from registry.models import Patient
from registry.selectors.access import restrict_to_visible
from registry.selectors.audit_trail import REPEATING_MODELS


def export_scope(*, user, site=None) -> QuerySet[Patient]:
    """The live patients an export reads: those `user` may see (every one for the system, None), of
    `site` only when one is named. Lazy; the dataset and the flat record exports share it (their
    equivalent from a frozen cut is registry/selectors/data_cuts.py `visible_entries`)."""
    patients = Patient.objects.all()
    if user is not None:
        patients = restrict_to_visible(patients, user, site_path="site_id")
    if site is not None:
        patients = patients.filter(site=site)
    return patients


def exportable_patients(
    *, user, record_ids: list[str] | None = None, changed_from: datetime | None = None,
    changed_until: datetime | None = None,
) -> QuerySet[Patient]:
    """The patients of the export; a lazy queryset (the time window adds one subquery per history
    table to the one query that reads it). `changed_from` is inclusive, `changed_until` exclusive."""
    patients = restrict_to_visible(Patient.objects.all(), user, site_path="site_id")
    if record_ids is not None:
        patients = patients.filter(record_id__in=record_ids)
    if changed_from is not None or changed_until is not None:
        window = Q()
        if changed_from is not None:
            window &= Q(history_date__gte=changed_from)
        if changed_until is not None:
            window &= Q(history_date__lt=changed_until)
        changed = Q(id__in=Patient.history.filter(window).values("id"))
        for model in REPEATING_MODELS:
            changed |= Q(id__in=model.history.filter(window).values("patient_id"))
        patients = patients.filter(changed)
    return patients


def site_codes_by_record(patients: QuerySet[Patient]) -> dict[str, str]:
    """Each patient's record ID and site code (REDCap's redcap_data_access_group), in one query."""
    return dict(patients.order_by().values_list("record_id", "site__code"))


def patient_ids_of_site(site_code: str) -> QuerySet:
    """The ids of every patient that was ever at the site, deleted ones included (their history
    keeps the site), as a lazy queryset."""
    return Patient.history.filter(site__code=site_code).values_list("id", flat=True).distinct()
