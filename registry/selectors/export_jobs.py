"""Reads for export jobs and for deciding whether a dataset download runs as one.

    export_job_of(user=, job_id=)              one job of the user's, as the REST API shows it
    export_jobs_of(user=, dataset=, limit=)    the user's jobs of a dataset, newest first
    export_patient_count(user=, site=, cut=)   how many patients an export would hold (one COUNT)

The rule for who sees a job is the admin's (registry/admin/exports.py): a user sees their own jobs
only, whatever their role; the API adds that a job of a site the user no longer sees is no job of
theirs. Whether the file may still leave is decided at the download
(registry/services/export_jobs.py export_job_file).
"""
from __future__ import annotations

from django.db.models import Q

from registry.models import DataCut, ExportJob, Site
from registry.selectors.access import access_for
from registry.selectors.data_cuts import visible_entries
from registry.selectors.record_export import export_scope


def _jobs_of(user):
    """The user's jobs that are still theirs to see: every one they asked for, except those of a site they
    no longer see (a job of every site has none). After `access_for`'s queries, no more."""
    access = access_for(user)
    jobs = ExportJob.objects.select_related("site", "cut").filter(requested_by=user)
    if access.site_ids is not None:
        jobs = jobs.filter(Q(site__isnull=True) | Q(site_id__in=access.site_ids))
    return jobs


def export_job_of(*, user, job_id: int) -> ExportJob | None:
    """The job `job_id` if it is one of `_jobs_of(user)`, else None. One query, with the job's site and
    cut; the user's access is read by `access_for`, which the API's permission check has already loaded
    for this request."""
    return _jobs_of(user).filter(pk=job_id).first()


def export_jobs_of(*, user, dataset: str, limit: int) -> tuple[list[ExportJob], bool]:
    """The user's jobs of `dataset` that `export_job_of` would answer, newest first: at most `limit`,
    and whether there were more. One query (with their sites and cuts) after `access_for`'s."""
    found = list(_jobs_of(user).filter(dataset=dataset).order_by("-created_at", "-pk")[:limit + 1])
    return found[:limit], len(found) > limit


def export_patient_count(*, user, site: Site | None = None, cut: DataCut | None = None) -> int:
    """The number of patients the export of any dataset by `user` (of `site` only, when given; from
    `cut`, when given) would hold: the same scopes registry/services/datasets.py dataset_export reads.
    One query."""
    if cut is None:
        return export_scope(user=user, site=site).count()
    return visible_entries(cut, user=user, site=site).count()
