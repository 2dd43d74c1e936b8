"""Queries in the workspace: the list (filters site, state, record; figures per site; a CSV for
monitoring), one query with its thread and the buttons its reader may use, and the "new query" page.

Doors only: reads through registry/selectors/queries.py, writes through registry/services/queries.py.
A query of a record the user does not see answers 404; a transition the user may not make, 403 with
nothing written; an illegal transition or an invalid target, the page again with the error.

The "new query" page is linked from elsewhere (the form pages' "query this field" links, the
data-quality rules' hits) with this contract: `workspace:query_new` with args [record_id] and GET
parameters `form`, `instance`, `field`, `text` (prefilled) and `next` (where to go once opened).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from registry.api.redcap.project import instrument_label
from registry.models import QueryState, QueryTransition
from registry.exports.queries_csv import queries_csv_response
from registry.records.dictionary import data_dictionary
from registry.records.instruments import INSTRUMENTS, RECORD_ID
from registry.selectors import queries as selectors
from registry.selectors.access import visible_patients
from registry.services import queries as services

LIST_LIMIT = 500  # rows shown on the list page; the CSV has them all
BUTTON_LABELS = {
    QueryTransition.RESPOND: "Send the response", QueryTransition.CLOSE: "Close the query",
    QueryTransition.REOPEN: "Reopen the query", QueryTransition.COMMENT: "Add a comment",
}


def _bad_request(request, message: str):
    return render(request, "workspace/bad_request.html", {"message": message, "page_title": "Not a valid address"},
                  status=400)


def _filters(request) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in ("site", "state", "record")}


@login_required
@require_GET
def query_list(request):
    filters = _filters(request)
    try:
        found = selectors.visible_queries(request.user, **filters)
    except selectors.QueryFilterError as error:
        return _bad_request(request, str(error))
    rows = list(found[:LIST_LIMIT + 1])
    context = {
        "nav": "queries", "page_title": "Queries", "queries": rows[:LIST_LIMIT], "truncated": len(rows) > LIST_LIMIT,
        "filters": filters, "sites": selectors.sites_for_filter(request.user), "states": QueryState.choices,
        "figures": selectors.query_figures(request.user),
        "csv_url": reverse("workspace:queries_csv") + ("?" + request.GET.urlencode() if request.GET else ""),
    }
    return render(request, "workspace/queries.html", context)


@login_required
@require_GET
def query_csv(request):
    """Every query of the list's filters, one row each (registry/selectors/queries.py CSV_HEADER)."""
    try:
        found = selectors.visible_queries(request.user, **_filters(request))
    except selectors.QueryFilterError as error:
        return _bad_request(request, str(error))
    return queries_csv_response(found)


class MessageForm(forms.Form):
    text = forms.CharField(label="Message", required=False, max_length=services.TEXT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 4, "cols": 70}))
    action = forms.ChoiceField(choices=[(t, t) for t in services.SERVICES])


@login_required
@require_http_methods(["GET", "POST"])
def query_detail(request, query_id: int):
    query = selectors.visible_query(request.user, query_id)
    if query is None:
        raise Http404("No query you may see has this number.")
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        try:
            services.SERVICES[action](query=query, user=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            for message in error.messages:
                form.add_error("text", message)
        else:
            messages.success(request, f"Query {query.pk}: {QueryTransition(action).label.lower()}.")
            return redirect("workspace:query", query_id=query.pk)
    context = {
        "nav": "queries", "page_title": f"Query {query.pk}", "query": query,
        "thread": list(query.messages.all()), "form": form,
        "buttons": [(action, BUTTON_LABELS[action]) for action in services.allowed_transitions(request.user, query)],
        "target_url": _target_url(query), "field_label": _field_label(query.form, query.field),
    }
    return render(request, "workspace/query.html", context)


def _target_url(query) -> str:
    record_id = query.patient.record_id
    if not query.form:
        return reverse("workspace:record", args=[record_id])
    if query.form in ("enrollment", "vital_status"):
        url = reverse("workspace:record_form", args=[record_id, query.form])
    elif query.form == "tumor_assessment":
        url = reverse("workspace:scan", args=[record_id, query.instance_number])
    elif query.form in ("lesion_measurement",):
        return reverse("workspace:record", args=[record_id])
    else:
        url = reverse("workspace:instance", args=[record_id, query.form, query.instance_number])
    return url + (f"#id_{query.field}" if query.field else "")


class NewQueryForm(forms.Form):
    form = forms.ChoiceField(label="Instrument", required=False,
                             choices=[("", "— the whole record —")]
                             + [(name, f"{instrument_label(name)} [{name}]") for name in INSTRUMENTS])
    instance = forms.IntegerField(label="Instance", required=False, min_value=1, max_value=2_147_483_647)
    field = forms.CharField(label="Field", required=False, max_length=100,
                            help_text="The data dictionary's field name; blank: the whole instance.")
    text = forms.CharField(label="Question", max_length=services.TEXT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 5, "cols": 70}))
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def query_new(request, record_id: str):
    patient = get_object_or_404(visible_patients(request.user).select_related("site"), record_id=record_id)
    if not services.may_open(request.user, patient):
        raise services.QueryNotAllowed("Your role may not open queries on this record.")
    if request.method == "POST":
        form = NewQueryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                query = services.query_open(patient=patient, user=request.user, text=data["text"], form=data["form"],
                                            instance=data["instance"], field=data["field"])
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, f"Query {query.pk} opened on {query.target_label}.")
                return redirect(_safe_next(request, data["next"]) or reverse("workspace:query", args=[query.pk]))
    else:
        initial = {name: request.GET.get(name, "") for name in ("form", "instance", "field", "text", "next")}
        form = NewQueryForm(initial=initial)
    chosen_form = (form.data.get("form") if form.is_bound else form.initial.get("form")) or ""
    field_name = (form.data.get("field") if form.is_bound else form.initial.get("field")) or ""
    context = {
        "nav": "queries", "page_title": f"New query on {patient.record_id}", "patient": patient, "form": form,
        "field_label": _field_label(chosen_form, field_name),
    }
    return render(request, "workspace/query_new.html", context)


def _field_label(form: str, field: str) -> str:
    if not form or not field or field == RECORD_ID:
        return ""
    entry = data_dictionary().by_name.get(field)
    return entry.label if entry is not None and entry.form == form else ""
