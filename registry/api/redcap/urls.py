"""The REDCap-compatible endpoint; config/urls.py mounts it at redcap/api/ (clients require the URL
to end in /api/)."""
from django.urls import path

from .views import redcap_api

app_name = "redcap"
urlpatterns = [path("", redcap_api, name="api")]
