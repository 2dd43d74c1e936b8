"""Every URL of the admin, found from the admin site itself, each with its kind.

A URL whose kind this module does not know (a custom view added later, a new history page ...)
raises UnknownAdminUrl, so the tests that walk the admin fail until someone says what the URL is,
how to fill it in and who may change data through it.
"""
from dataclasses import dataclass

from django.contrib import admin

# The part of a URL name after "<app>_<model>_", and what the URL is.
KINDS = {
    "changelist": "changelist",
    "add": "add",
    "change": "change",
    "delete": "delete",
    "history": "history",
    "simple_history": "history_version",  # one version's page (simple_history's "revert" form)
    "study_report": "study_report",
    "data_quality": "data_quality",
    "audit_trail": "audit_trail",
    "import_redcap": "import_redcap",
    "confirm_redcap": "confirm_redcap",
    "export_redcap": "export_redcap",
    "import": "spreadsheet_import",  # django-import-export: upload, checked without writing
    "process_import": "spreadsheet_process_import",  # django-import-export: confirm the checked upload
    "export": "spreadsheet_export",
    "download": "export_download",
    "password_change": "password_change",
}
# Django's unnamed "<object id>/" URL, which redirects to the change page.
OBJECT_REDIRECT = "object_redirect"
OBJECT_REDIRECT_PATTERN = "<path:object_id>/"


class UnknownAdminUrl(AssertionError):
    pass


@dataclass(frozen=True)
class AdminUrl:
    name: str  # "registry_patient_change"; for the unnamed redirect "<app>_<model>_object_redirect"
    model: type
    model_admin: admin.ModelAdmin
    kind: str

    def __str__(self) -> str:
        return self.name


def admin_urls(site=admin.site) -> list[AdminUrl]:
    """Every URL of every ModelAdmin registered on `site`, in registration order."""
    found = []
    for model, model_admin in site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            if pattern.name is None:
                if str(pattern.pattern) != OBJECT_REDIRECT_PATTERN:
                    raise UnknownAdminUrl(f"{model.__name__}: an unnamed admin URL {pattern.pattern!r}")
                found.append(AdminUrl(prefix + OBJECT_REDIRECT, model, model_admin, OBJECT_REDIRECT))
                continue
            kind = KINDS.get(pattern.name.removeprefix(prefix)) if pattern.name.startswith(prefix) else None
            if kind is None:
                raise UnknownAdminUrl(
                    f"The admin URL {pattern.name!r} ({pattern.pattern}) is new: add its kind to "
                    "tests/admin/admin_urls.py KINDS, and to the walk how to fill it in and who may change "
                    "data through it."
                )
            found.append(AdminUrl(pattern.name, model, model_admin, kind))
    return found
