"""Helpers of the instrument page tests: the POST a browser sends for one page."""
from django.urls import reverse

from registry.services.patient_versions import current_versions


def version_of(patient) -> str:
    return current_versions([patient.pk])[patient.pk]


def instance_url(patient, form, instance=None) -> str:
    if instance is None:
        return reverse("workspace:instance_new", kwargs={"record_id": patient.record_id, "form": form})
    return reverse("workspace:instance", kwargs={"record_id": patient.record_id, "form": form, "instance": instance})


def record_form_url(patient, form) -> str:
    return reverse("workspace:record_form", kwargs={"record_id": patient.record_id, "form": form})


def record_url(patient) -> str:
    return reverse("workspace:record", kwargs={"record_id": patient.record_id})


def rows_data(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    """A formset's POST: its management form and one dict per row (existing rows first, with their id)."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for number, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{number}-{name}"] = value
    return data


def page_data(patient, values: dict, *, version: str | None = None) -> dict:
    """The page's own fields, with the record's version as the page carried it."""
    return {"record_version": version if version is not None else version_of(patient), **values}


def _raw(value):
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [_raw(each) for each in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def shown_values(response) -> dict:
    """What the browser would send back from a rendered page unchanged: each field of its form and of
    its rows (with the formset's management form), as the page shows them."""
    data = {}
    forms = [response.context["form"]]
    rows = response.context.get("rows")
    if rows:
        formset = rows["formset"]
        data.update({formset.management_form.add_prefix(name): _raw(bound.value())
                     for name, bound in ((bound.name, bound) for bound in formset.management_form)})
        forms += list(formset.forms)
    for form in forms:
        for bound in form:
            value = _raw(bound.value())
            if value in ("", []) or (bound.name == "DELETE" and value in ("False", "")):
                continue
            data[bound.html_name] = value
    return data


def messages_of(response) -> list[str]:
    """The messages a (redirecting) response left for the next page."""
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]
