from django.contrib import admin
from django.urls import include, path

from registry.admin.second_factor import second_factor_page

admin.site.site_header = "ALK+ NSCLC registry"
admin.site.site_title = "ALK+ NSCLC registry"
admin.site.index_title = "Data entry and review"

urlpatterns = [
    # Before the admin's own URLs: the one-time password page of registry/admin/second_factor.py.
    path("admin/second-factor/", second_factor_page, name="second_factor"),
    path("admin/", admin.site.urls),
    # The REDCap-compatible API (registry/api/redcap/): REDCap clients require the URL to end in /api/.
    path("redcap/api/", include("registry.api.redcap.urls")),
    # The REST API for sites (registry/api/): /api/v1/..., its OpenAPI schema and interactive docs.
    path("api/", include("registry.api.urls")),
    # The workspace (registry/workspace/): worklist, record home pages and data entry, at the site's root.
    path("", include("registry.workspace.urls")),
]
