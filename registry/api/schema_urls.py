"""The URLs the OpenAPI schema describes: /api/v1/ only (the REDCap endpoint speaks REDCap's own protocol).

    python manage.py spectacular --urlconf registry.api.schema_urls --validate --file schema.yaml
"""
from django.urls import include, path

from .urls import v1

urlpatterns = [path("api/v1/", include((v1, "api-v1")))]
