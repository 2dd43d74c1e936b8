"""Analysis datasets and the study report, for investigators (and every role, over the sites it sees):

    GET /api/v1/datasets/                       the datasets and formats
    GET /api/v1/datasets/{name}/?format=csv     one dataset: csv, parquet, xlsx, sav, dta, or for the
                                                ADaM datasets xpt (SAS transport version 5)
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
from pathlib import Path

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from registry.models import ExportDoor
from registry.reports.study_report import study_report
from registry.selectors.access import visible_sites
from registry.selectors.data_cuts import DataCutNotFound, data_cut_named
from registry.services.datasets import (
    DATASETS, EXTENSIONS, FORMATS, DeidentificationKeyMissing, ExportNotAllowed, codebook_path, dataset_export,
    format_refusal, formats_of, provenance_path,
)

from . import query
from .base import ApiView
from .errors import RecordsInvalid, ServiceUnavailable, field_error
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


class DatasetListView(ApiView):
    permission_classes = [HasRegistryRole]

    @extend_schema(tags=["datasets and report"], operation_id="datasets_list", responses=DatasetsSerializer)
    def get(self, request):
        return Response({"results": [
            {"name": name, "formats": list(formats_of(name)),
             "url": request.build_absolute_uri(reverse("api-v1:dataset", kwargs={"name": name}))}
            for name in DATASETS
        ]})


class DatasetView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {"503": "De-identified exports are refused until the de-identification key is set."}}

    def perform_content_negotiation(self, request, force=False):
        # A file answers whatever the Accept header says; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=["datasets and report"], operation_id="datasets_read",
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(DATASETS)),
            OpenApiParameter("format", str, enum=list(FORMATS),
                             description="File format (default csv); xpt (SAS transport) for the ADaM datasets "
                                         "only, refused (400) for another."),
            OpenApiParameter("identified", bool, description="Identified data (default: de-identified)."),
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
        if name not in DATASETS:
            raise NotFound(f"No dataset {name}; the datasets are {', '.join(DATASETS)}.")
        file_format = query.optional_choice(request, "format", FORMATS) or "csv"
        if file_format not in formats_of(name):
            raise RecordsInvalid([field_error("format", file_format, format_refusal(name, file_format))])
        identified = query.optional_bool(request, "identified")
        package = query.optional_choice(request, "package", ("file", "zip")) or "file"
        site_code = query.optional_text(request, "site", max_length=30)
        cut = _cut(request)
        site = None
        if site_code is not None:
            site = visible_sites(request.user).filter(code=site_code).first()
            if site is None:
                raise RecordsInvalid([field_error("site", site_code, "is not a site you see")])
        directory = tempfile.TemporaryDirectory(prefix="registry-api-export-")
        output = Path(directory.name) / f"{name}{EXTENSIONS[file_format]}"
        try:
            dataset_export(name=name, output=output, file_format=file_format, user=request.user, site=site,
                           deidentify=not identified, door=ExportDoor.API_DATASET, cut=cut)
        except ExportNotAllowed as error:
            directory.cleanup()
            raise PermissionDenied(str(error)) from None
        except DeidentificationKeyMissing as error:
            directory.cleanup()
            raise ServiceUnavailable(str(error)) from None
        if package == "zip":
            bundle = output.with_name(f"{name}.zip")
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in (output, codebook_path(output), provenance_path(output)):
                    archive.write(path, path.name)
            output, content_type = bundle, ZIP
        else:
            content_type = CONTENT_TYPES[file_format]
        handle = output.open("rb")
        directory.cleanup()  # the open file stays readable until the response closes it
        return FileResponse(handle, as_attachment=True, filename=output.name, content_type=content_type)


class ReportView(ApiView):
    permission_classes = [HasRegistryRole]
    error_codes = {"GET": {"404": "No data cut of the name `cut` gives."}}

    @extend_schema(tags=["datasets and report"], operation_id="report_read", parameters=[CUT],
                   responses=OpenApiResponse(OpenApiTypes.OBJECT, description="The study report"),
                   description="The study report over the patients you see (docs/study-report.md): the reference "
                               "study's tables and survival analyses from the stored derivations.")
    def get(self, request):
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
