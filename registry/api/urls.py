"""The REST API's URLs, under /api/ (config/urls.py): v1/, the OpenAPI schema and its interactive docs.

The REDCap-compatible endpoint (registry/api/redcap/) has URLs of its own.
"""
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import audit, dataset_jobs, datasets, docs, patients, queries, records
from .errors import not_found


class RecordIdConverter:
    """A record ID as the model accepts it: anything else is no record, and answers 404."""

    regex = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class InstanceConverter:
    """An instance number that fits the database's integer (larger ones are no instance: 404)."""

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value):
        number = int(value)
        if number > 2_147_483_647:
            raise ValueError("not an instance number")
        return number

    def to_url(self, value):
        return str(value)


register_converter(RecordIdConverter, "record_id")
register_converter(InstanceConverter, "instance")

v1 = [
    path("patients/", patients.PatientListView.as_view(), name="patients"),
    path("patients/<record_id:record_id>/", patients.PatientDetailView.as_view(), name="patient"),
    path("patients/<record_id:record_id>/record/", patients.RecordView.as_view(), name="patient-record"),
    path("patients/<record_id:record_id>/derived/", patients.DerivedView.as_view(), name="patient-derived"),
    path("patients/<record_id:record_id>/vital_status/", patients.VitalStatusView.as_view(), name="vital-status"),
]
for form, (list_view, detail_view) in patients.INSTRUMENT_VIEWS.items():
    v1 += [
        path(f"patients/<record_id:record_id>/{form}/", list_view.as_view(), name=form),
        path(f"patients/<record_id:record_id>/{form}/<instance:instance>/", detail_view.as_view(),
             name=f"{form}-instance"),
    ]
v1 += [
    path("records/", records.RecordsView.as_view(), name="records"),
    path("records/flat/", records.FlatRecordsView.as_view(), name="records-flat"),
    path("deletions/", records.DeletionsView.as_view(), name="deletions"),
    path("audit/", audit.AuditView.as_view(), name="audit"),
    path("datasets/", datasets.DatasetListView.as_view(), name="datasets"),
    path("datasets/<slug:name>/", datasets.DatasetView.as_view(), name="dataset"),
    path("datasets/<slug:name>/jobs/", dataset_jobs.DatasetJobsView.as_view(), name="dataset-jobs"),
    path("datasets/<slug:name>/jobs/<instance:job_id>/", dataset_jobs.DatasetJobView.as_view(), name="dataset-job"),
    path("datasets/<slug:name>/jobs/<instance:job_id>/file/", dataset_jobs.DatasetJobFileView.as_view(),
         name="dataset-job-file"),
    path("report/", datasets.ReportView.as_view(), name="report"),
    path("queries/", queries.QueryListView.as_view(), name="queries"),
    path("queries/<instance:query_id>/", queries.QueryDetailView.as_view(), name="query"),
    path("queries/<instance:query_id>/respond/", queries.QueryRespondView.as_view(), name="query-respond"),
    path("queries/<instance:query_id>/close/", queries.QueryCloseView.as_view(), name="query-close"),
    path("queries/<instance:query_id>/reopen/", queries.QueryReopenView.as_view(), name="query-reopen"),
    re_path(r"", not_found),  # anything else under v1/ (newlines included): a JSON 404
]

urlpatterns = [
    path("v1/", include((v1, "api-v1"))),
    path("schema/", SpectacularAPIView.as_view(urlconf="registry.api.schema_urls"), name="api-schema"),
    # The docs pages hold no inline script or style (the Content-Security-Policy forbids them): Swagger
    # UI's start script is its own request (`?script`), ReDoc's a static file.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    path("redoc/redoc.standalone.js", docs.redoc_bundle, name="api-redoc-bundle"),
    path("redoc/", docs.redoc_page_policy(
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")), name="api-redoc"),
]
