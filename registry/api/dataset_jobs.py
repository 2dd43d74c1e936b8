"""Dataset downloads written in the background: the admin's export jobs, asked for through the REST API.

    POST /api/v1/datasets/{name}/jobs/?format=...     202, Location: the job; the same parameters as the
                                                      download (format, identified, site, cut)
    GET  /api/v1/datasets/{name}/jobs/?limit=20       your jobs of the dataset, newest first
    GET  /api/v1/datasets/{name}/jobs/{id}/           the job: status, progress, and its file's URL when done
    GET  /api/v1/datasets/{name}/jobs/{id}/file/      the zip (data file, codebook, provenance)

A job is an ExportJob like the admin's (registry/services/export_jobs.py): the same checks at the
request, when it runs and at the download, the same task, the same retention (settings.EXPORT_RETENTION_DAYS,
then the nightly task deletes the file: 410). A user sees their own jobs only, and none of a site they no
longer see (404, as if it did not exist: registry/selectors/export_jobs.py). Why and when a download
must be a job: docs/rest-api-datasets.md.
"""
from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.response import Response

from registry.models import ExportDoor, ExportJob, ExportJobStatus
from registry.selectors.export_jobs import export_job_of, export_jobs_of
from registry.services.datasets import ExportNotAllowed
from registry.services.export_jobs import TooManyOpenJobs, export_job_file, export_job_request

from .base import ApiView
from .datasets import CUT, DATASET_NAME, DATASETS, FORMAT, IDENTIFIED, ZIP, export_request, refusals_raised
from .errors import Conflict
from .permissions import HasRegistryRole
from .query import SITE, whole_number
from .serializers import DatasetJobListSerializer, DatasetJobSerializer

JOB_ID = OpenApiParameter("job_id", int, OpenApiParameter.PATH, description="The job's number (from its URL).")
LOCATION = OpenApiParameter("Location", str, OpenApiParameter.HEADER, response=[202], required=True,
                            description="The job's URL: poll it for its progress, then download its file.")
TAGS = ["datasets and report"]
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
# Its own bounds in the schema: the schema's shared `limit` (registry/api/schema.py) is the audit list's.
LIMIT = OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                         description=f"At most this many jobs, newest first (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}).")


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


class TooManyJobs(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_open_jobs"


class DatasetJobsView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {
        "POST": {
            "404": "No such dataset, or no data cut of the name `cut` gives.",
            "429": "You have REGISTRY_EXPORT_MAX_OPEN_JOBS jobs queued or running already (admin and API "
                   "together); nothing was stored. Ask again once one has finished.",
            "503": "De-identified exports are refused until the de-identification key is set.",
        },
        "GET": {"400": "`limit` is not a whole number from 1 to 100.", "404": "No such dataset."},
    }

    def perform_content_negotiation(self, request, force=False):
        # `format` names the file's format here, as on the download, not the answer's (DRF's reading of it):
        # the answer is JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=TAGS, operation_id="dataset_jobs_list", parameters=[DATASET_NAME, LIMIT],
        responses=DatasetJobListSerializer,
        description="Your jobs of this dataset, newest first, as each job's own URL shows them (a job of a site you "
                    "no longer see is not listed): to find a job whose URL was lost, or see which files are still "
                    "there before asking for a new one.",
    )
    def get(self, request, name):
        if name not in DATASETS:
            raise NotFound(f"No dataset {name}; the datasets are {', '.join(DATASETS)}.")
        limit = whole_number(request, "limit", default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        jobs, truncated = export_jobs_of(user=request.user, dataset=name, limit=limit)
        return Response({
            "results": DatasetJobSerializer(jobs, many=True, context={"request": request}).data,
            "truncated": truncated,
        })

    @extend_schema(
        tags=TAGS, operation_id="dataset_jobs_create", request=None,
        parameters=[DATASET_NAME, FORMAT, IDENTIFIED, SITE, CUT, LOCATION],
        responses={202: DatasetJobSerializer},
        description="Asks for one dataset of the patients you see to be written in the background, whatever its "
                    "size: the same parameters and refusals as the download, checked now (nothing is stored when "
                    "one is refused). Answers 202 with the job, whose URL is in the Location header.",
    )
    def post(self, request, name):
        asked = export_request(request, name)
        try:
            job = refusals_raised(
                export_job_request, user=request.user, dataset=name, file_format=asked.file_format,
                deidentify=not asked.identified, site=asked.site, cut=asked.cut, door=ExportDoor.API_DATASET,
            )
        except TooManyOpenJobs as error:
            raise TooManyJobs(str(error)) from None
        # Without a broker the export ran in-process after the commit: show what it left.
        job.refresh_from_db()
        body = DatasetJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


def _own_job(request, name: str, job_id: int) -> ExportJob:
    job = export_job_of(user=request.user, job_id=job_id)
    if job is None or job.dataset != name:
        raise NotFound(f"No export job {job_id} of yours for the dataset {name}.")
    return job


class DatasetJobView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {"404": "No such job of yours (a job of another user, or of a site you no longer see, "
                                  "is none)."}}

    @extend_schema(
        tags=TAGS, operation_id="dataset_jobs_read", parameters=[DATASET_NAME, JOB_ID],
        responses=DatasetJobSerializer,
        description="The job: queued, running (with the patients written so far), done (with its file's URL until "
                    "`expires_at`), failed (with the reason) or expired (its file deleted).",
    )
    def get(self, request, name, job_id):
        return Response(DatasetJobSerializer(_own_job(request, name, job_id), context={"request": request}).data)


class DatasetJobFileView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {
        "404": "No such job of yours (a job of another user, or of a site you no longer see, is none).",
        "409": "The job has not finished (queued or running: ask again later), or it failed.",
        "410": "The job's file was deleted: it is older than REGISTRY_EXPORT_RETENTION_DAYS. Ask for a new job.",
    }}

    def perform_content_negotiation(self, request, force=False):
        # A file answers whatever the Accept header says; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=TAGS, operation_id="dataset_jobs_file", parameters=[DATASET_NAME, JOB_ID],
        responses={(200, ZIP): OpenApiResponse(OpenApiTypes.BINARY, description="The data file, its codebook and "
                                                                                  "its provenance, zipped")},
        description="The finished job's zip, while you may still make that export (a grant withdrawn or a site left "
                    "since answers 403).",
    )
    def get(self, request, name, job_id):
        job = _own_job(request, name, job_id)
        if job.status == ExportJobStatus.EXPIRED:
            raise Gone(f"Export job {job.pk} finished more than the retention period ago and its file was deleted.")
        if job.status == ExportJobStatus.FAILED:
            raise Conflict(f"Export job {job.pk} failed: {job.error_message}")
        if job.status != ExportJobStatus.DONE:
            raise Conflict(f"Export job {job.pk} is {job.status}: its file is not written yet; ask again later.")
        try:
            _, path = export_job_file(job_id=job.pk, user=request.user)
        except ExportJob.DoesNotExist:  # its file deleted since this request read the job
            raise Gone(f"The file of export job {job.pk} was deleted.") from None
        except ExportNotAllowed as error:
            raise PermissionDenied(str(error)) from None
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=ZIP)
