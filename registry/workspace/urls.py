"""The workspace's addresses. A record is addressed by its record ID, an instance by its instrument and
REDCap instance number, as coordinators coming from REDCap know them."""
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "workspace"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="workspace/login.html",
                                                 redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.worklist, name="worklist"),
    path("records/", views.records, name="records"),
    path("records/new/", views.record_new, name="record_new"),
    path("reports/", views.reports, name="reports"),
    path("reports/new/", views.report_new, name="report_new"),
    path("reports/filter-check/", views.report_filter_check, name="report_filter_check"),
    path("reports/<int:report_id>/", views.report_view, name="report"),
    path("reports/<int:report_id>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:report_id>/delete/", views.report_delete, name="report_delete"),
    path("reports/<int:report_id>/download.<str:file_format>", views.report_download, name="report_download"),
    path("quality/", views.quality_rules, name="quality"),
    path("quality/run/", views.quality_run, name="quality_run"),
    path("quality/rules/new/", views.quality_rule_edit, name="quality_rule_new"),
    path("quality/rules/<int:pk>/", views.quality_rule_edit, name="quality_rule_edit"),
    path("quality/hits/<int:pk>/verify/", views.quality_hit_verify, name="quality_hit_verify"),
    path("quality/<str:rule>/", views.quality_rule_hits, name="quality_rule"),
    path("records/<str:record_id>/", views.record_home, name="record"),
    # Before the record's forms below, whose <form> would take these names.
    path("records/<str:record_id>/lock/", views.lock, name="lock"),
    path("records/<str:record_id>/unlock/", views.unlock, name="unlock"),
    path("records/<str:record_id>/sign/", views.sign, name="sign"),
    path("queries/", views.query_list, name="queries"),
    path("queries/export.csv", views.query_csv, name="queries_csv"),
    path("queries/<int:query_id>/", views.query_detail, name="query"),
    path("queries/new/<str:record_id>/", views.query_new, name="query_new"),
    path("records/<str:record_id>/scans/new/", views.scan_new, name="scan_new"),
    path("records/<str:record_id>/scans/<int:instance>/", views.scan_edit, name="scan"),
    path("records/<str:record_id>/<str:form>/new/", views.instance_new, name="instance_new"),
    path("records/<str:record_id>/<str:form>/<int:instance>/", views.instance_edit, name="instance"),
    path("records/<str:record_id>/<str:form>/<int:instance>/delete/", views.instance_delete, name="instance_delete"),
    path("records/<str:record_id>/<str:form>/", views.record_form, name="record_form"),
]
