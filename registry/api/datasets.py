"""Analysis datasets and the study report, for investigators (and every role, over the sites it sees):

    GET /api/v1/datasets/                       the datasets and formats
    GET /api/v1/datasets/{name}/?format=csv     one dataset: csv, parquet, xlsx, sav, dta, or for the
                                                ADaM datasets xpt (SAS transport version 5); of more
                                                patients than settings.API_SYNC_DATASET_PATIENTS: 409,
                                                ask for a job instead (registry/api/dataset_jobs.py)
    GET /api/v1/report/                         the study report (JSON)

`?cut=NAME` on each: from that frozen data cut (registry/selectors/data_cuts.py) instead of the live
records, under the same access and de-identification rules.

Exports go through registry/services/datasets.py `dataset_export`, whose rule decides who gets
identified data: de-identified by default (`identified=true` asks for identified data, refused 403
to investigators and viewers without the grant). `package=zip` answers a zip of the data file with
its codebook and provenance, as the admin's export jobs do.
"""
from __future__ import annotations

import math
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from registry.models import DataCut, ExportDoor, Site
from registry.selectors.access import visible_sites
from registry.selectors.data_cuts import DataCutNotFound, data_cut_named
from registry.selectors.export_jobs import export_patient_count
from registry.services.datasets import (
    DATASETS, EXTENSIONS, FORMATS, DeidentificationKeyMissing, ExportNotAllowed, codebook_path, dataset_export,
    export_checked, format_refusal, formats_of, provenance_path,
)

from . import query
from .base import ApiView
from .errors import Conflict, RecordsInvalid, ServiceUnavailable, field_error
from .permissions import HasRegistryRole
from .serializers import DatasetsSerializer

CONTENT_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "xpt": "application/x-sas-xport",
}
ZIP = "application/zip"
CUT = OpenApiParameter(
    "cut", str, description="From this frozen data cut (its name) instead of the live records: the rows and "
                            "results as they were when it was frozen.",
)


def _cut(request):
    """The data cut `?cut=` names, None without it; an unknown name is a 404 naming it (the resource the
    request asks for does not exist, as for an unknown dataset)."""
    name = query.optional_text(request, "cut", max_length=100)
    if name is None:
        return None
    try:
        return data_cut_named(name)
    except DataCutNotFound:
        raise NotFound(f"No data cut named {name!r}.") from None


FORMAT = OpenApiParameter("format", str, enum=list(FORMATS),
                          description="File format (default csv); xpt (SAS transport) for the ADaM datasets "
                                      "only, refused (400) for another.")
IDENTIFIED = OpenApiParameter("identified", bool, description="Identified data (default: de-identified).")
DATASET_NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(DATASETS))


@dataclass(frozen=True)
class ExportRequest:
    """What a request for a dataset asks for, checked: the same for a download and for a job."""

    name: str
    file_format: str
    identified: bool
    site: Site | None
    cut: DataCut | None

    def query(self) -> dict[str, str]:
        """The query parameters that ask for the same export (for a job's URL)."""
        return {"format": self.file_format, **({"identified": "true"} if self.identified else {}),
                **({"site": self.site.code} if self.site is not None else {}),
                **({"cut": self.cut.name} if self.cut is not None else {})}


def export_request(request, name: str) -> ExportRequest:
    """The dataset, format, identified flag, site and cut a request asks for; 404 for an unknown dataset or
    cut, 400 for a malformed value, a format the dataset is not offered in (the one format rule,
    registry/exports/formats.py) or a site the user does not see."""
    if name not in DATASETS:
        raise NotFound(f"No dataset {name}; the datasets are {', '.join(DATASETS)}.")
    file_format = query.optional_choice(request, "format", FORMATS) or "csv"
    if file_format not in formats_of(name):
        raise RecordsInvalid([field_error("format", file_format, format_refusal(name, file_format))])
    identified = query.optional_bool(request, "identified")
    site_code = query.optional_text(request, "site", max_length=30)
    cut = _cut(request)
    site = None
    if site_code is not None:
        site = visible_sites(request.user).filter(code=site_code).first()
        if site is None:
            raise RecordsInvalid([field_error("site", site_code, "is not a site you see")])
    return ExportRequest(name=name, file_format=file_format, identified=identified, site=site, cut=cut)


def refusals_raised(function, /, **arguments):
    """`function(**arguments)`, its refusals answered as the API answers them: ExportNotAllowed 403, a
    missing de-identification key 503 (a setting of the server's, not the request's fault)."""
    try:
        return function(**arguments)
    except ExportNotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except DeidentificationKeyMissing as error:
        raise ServiceUnavailable(str(error)) from None


class DatasetListView(ApiView):
    permission_classes = [HasRegistryRole]

    @extend_schema(tags=["datasets and report"], operation_id="datasets_list", responses=DatasetsSerializer)
    def get(self, request):
        return Response({"results": [
            {"name": name, "formats": list(formats_of(name)),
             "url": request.build_absolute_uri(reverse("api-v1:dataset", kwargs={"name": name})),
             "jobs": request.build_absolute_uri(reverse("api-v1:dataset-jobs", kwargs={"name": name}))}
            for name in DATASETS
        ]})


class DatasetView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {
        "409": "The export holds more patients than a download answers at once (REGISTRY_API_SYNC_DATASET_PATIENTS): "
               "ask for it as a job (POST /api/v1/datasets/{name}/jobs/ with the same parameters).",
        "503": "De-identified exports are refused until the de-identification key is set.",
    }}

    def perform_content_negotiation(self, request, force=False):
        # A file answers whatever the Accept header says; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=["datasets and report"], operation_id="datasets_read",
        parameters=[
            DATASET_NAME, FORMAT, IDENTIFIED,
            OpenApiParameter("package", str, enum=["file", "zip"],
                             description="file (default): the data file; zip: with its codebook and provenance."),
            query.SITE,
            CUT,
        ],
        responses={(200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The dataset")
                   for media in (*CONTENT_TYPES.values(), ZIP)},
        description="One dataset of the patients you see, derived results as stored (see its provenance).",
    )
    def get(self, request, name):
        asked = export_request(request, name)
        package = query.optional_choice(request, "package", ("file", "zip")) or "file"
        refusals_raised(export_checked, name=name, file_format=asked.file_format, user=request.user,
                        deidentify=not asked.identified)
        self.refuse_if_too_large(request, asked)
        directory = tempfile.TemporaryDirectory(prefix="registry-api-export-")
        output = Path(directory.name) / f"{name}{EXTENSIONS[asked.file_format]}"
        try:
            refusals_raised(dataset_export, name=name, output=output, file_format=asked.file_format,
                            user=request.user, site=asked.site, deidentify=not asked.identified,
                            door=ExportDoor.API_DATASET, cut=asked.cut)
        except Exception:
            directory.cleanup()
            raise
        if package == "zip":
            bundle = output.with_name(f"{name}.zip")
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in (output, codebook_path(output), provenance_path(output)):
                    archive.write(path, path.name)
            output, content_type = bundle, ZIP
        else:
            content_type = CONTENT_TYPES[asked.file_format]
        handle = output.open("rb")
        directory.cleanup()  # the open file stays readable until the response closes it
        return FileResponse(handle, as_attachment=True, filename=output.name, content_type=content_type)

    def refuse_if_too_large(self, request, asked: ExportRequest) -> None:
        """409 when the export holds more patients than one request writes (settings.API_SYNC_DATASET_PATIENTS):
        a request holding a server thread for minutes would outlast proxies' timeouts and could not report
        its progress; the answer names the job URL that writes it in the background. One query."""
        limit = settings.API_SYNC_DATASET_PATIENTS
        patients = export_patient_count(user=request.user, site=asked.site, cut=asked.cut)
        if patients <= limit:
            return
        jobs = request.build_absolute_uri(reverse("api-v1:dataset-jobs", kwargs={"name": asked.name}))
        raise Conflict(
            f"This export holds {patients} patients, more than the {limit} a download answers at once; nothing was "
            f"written. POST {jobs}?{urlencode(asked.query())} to have it written in the background, then follow "
            "the job's URL (the Location header of the 202) for its progress and its file."
        )


class ReportView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {"404": "No data cut of the name `cut` gives."}}

    @extend_schema(tags=["datasets and report"], operation_id="report_read", parameters=[CUT],
                   responses=OpenApiResponse(OpenApiTypes.OBJECT, description="The study report"),
                   description="The study report over the patients you see (docs/study-report.md): the reference "
                               "study's tables and survival analyses from the stored derivations.")
    def get(self, request):
        # Imported here, not at the top: loading the URL configuration (every web process and test
        # client's first request) would import the report's plotting and statistics libraries.
        from registry.reports.study_report import study_report

        return Response(_finite(study_report(user=request.user, cut=_cut(request))))


def _finite(value):
    """The report with NaN and infinities (statistics of empty groups) as null: JSON has neither."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
