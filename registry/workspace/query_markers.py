"""What a form page shows of queries: a marker beside every field that has an unresolved (open or
responded) query, linking to the list of the form's queries at the foot of the page, and a "query
this field" link for users who may open queries on the record.

    form_query_context(request, patient=..., form=..., instance=...) -> the template context's part:
        queried_fields   field name → its (oldest) unresolved query (registry/selectors/queries.py)
        form_queries     those queries, for the list at the foot of the page
        query_field_url  the "new query" link with the form, instance and next filled in and the
                         field parameter last, the template appending the field's name; "" for
                         users who may not open queries
One database query (the form's unresolved queries); none when the instance is not saved yet.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from registry.models import Patient
from registry.selectors.queries import queried_fields
from registry.services.queries import may_open


def form_query_context(request, *, patient: Patient, form: str, instance: int | None, saved: bool = True) -> dict:
    if not saved or patient.pk is None:
        return {"queried_fields": {}, "form_queries": [], "query_field_url": ""}
    found = queried_fields(patient, form, instance)
    url = ""
    if may_open(request.user, patient):
        params = {"form": form, **({"instance": instance} if instance is not None else {}),
                  "next": request.get_full_path()}
        url = f"{reverse('workspace:query_new', args=[patient.record_id])}?{urlencode(params)}&field="
    return {"queried_fields": found, "form_queries": list(found.values()), "query_field_url": url}
