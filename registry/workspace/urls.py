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
    path("quality/", views.quality_rules, name="quality"),
    path("quality/run/", views.quality_run, name="quality_run"),
    path("quality/rules/new/", views.quality_rule_edit, name="quality_rule_new"),
    path("quality/rules/<int:pk>/", views.quality_rule_edit, name="quality_rule_edit"),
    path("quality/hits/<int:pk>/verify/", views.quality_hit_verify, name="quality_hit_verify"),
    path("quality/<str:rule>/", views.quality_rule_hits, name="quality_rule"),
    path("records/<str:record_id>/", views.record_home, name="record"),
    path("records/<str:record_id>/scans/new/", views.scan_new, name="scan_new"),
    path("records/<str:record_id>/scans/<int:instance>/", views.scan_edit, name="scan"),
    path("records/<str:record_id>/<str:form>/new/", views.instance_new, name="instance_new"),
    path("records/<str:record_id>/<str:form>/<int:instance>/", views.instance_edit, name="instance"),
    path("records/<str:record_id>/<str:form>/<int:instance>/delete/", views.instance_delete, name="instance_delete"),
    path("records/<str:record_id>/<str:form>/", views.record_form, name="record_form"),
]
