"""The data-quality pages: every rule with its hits in the latest run, one rule's hits per site, the
custom rules' form, and the two actions (run now, verify a hit as correct).

Reading needs a role and identified access (the hits name records and show their values); each user
sees the hits of the sites they see. Running, verifying and writing custom rules need RUN_RULES
(data managers, administrators). Reads go through registry/selectors/data_quality.py, writes
through registry/services/data_quality.py.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from registry.models import QualityRule, QualityRuleHit, QualityRuleRun
from registry.records.data_quality import BUILT_IN_CODES, CUSTOM_PREFIX, FLAG_PREFIX
from registry.records.instruments import INSTRUMENTS
from registry.selectors import data_quality as selectors
from registry.selectors.access import Capability, access_for
from registry.services import data_quality as services
from registry.services.queries import QueryInvalid, query_open


def hit_query_target(hit: QualityRuleHit) -> dict:
    """What a query about the hit is attached to: its field, or its instance, or (a derivation flag about
    a repeating instrument names no instance) the record."""
    instrument = INSTRUMENTS.get(hit.form)
    if instrument is None or (instrument.repeating and hit.instance is None):
        return {"form": "", "instance": None, "field": ""}
    return {"form": hit.form, "instance": hit.instance, "field": hit.field}


def hit_query_text(hit: QualityRuleHit, rule_label: str) -> str:
    return f"{rule_label}: {hit.message}"


def query_link(hit: QualityRuleHit, next_url: str, rule_label: str) -> str:
    """The address of the new-query page, filled in with the hit's record, form, instance, field and
    finding (registry/workspace/views/queries.py `query_new`): to ask in one's own words."""
    base = reverse("workspace:query_new", args=[hit.record_id])
    target = hit_query_target(hit)
    params = {"form": target["form"], "field": target["field"], "text": hit_query_text(hit, rule_label), "next": next_url}
    if target["instance"] is not None:
        params["instance"] = target["instance"]
    return f"{base}?{urlencode(params)}"


def _reader(request):
    access = access_for(request.user)
    if access.role is None or not access.identified:
        raise PermissionDenied("The data-quality pages show records' values: they need a role with identified access.")
    return access


def _runner(request):
    access = _reader(request)
    if not access.can(Capability.RUN_RULES):
        raise PermissionDenied("This needs the run-rules right (data managers, administrators).")
    return access


def _known_rule(code: str) -> bool:
    if code in BUILT_IN_CODES or code.startswith(FLAG_PREFIX):
        return True
    return code.startswith(CUSTOM_PREFIX) and code[len(CUSTOM_PREFIX):].isdigit()


@login_required
@require_GET
def quality_rules(request):
    access = _reader(request)
    run = selectors.latest_run()
    last = QualityRuleRun.objects.order_by("-started_at", "-pk").first()
    return render(request, "workspace/data_quality.html", {
        "nav": "quality", "page_title": "Data quality", "run": run, "last": last,
        "summaries": selectors.rule_summaries(request.user, run),
        "can_run": access.can(Capability.RUN_RULES),
        "custom_rules": QualityRule.objects.order_by("name"),
    })


@login_required
@require_POST
def quality_run(request):
    _runner(request)
    services.quality_rules_request(user=request.user)
    messages.success(request, "The rules are running on every record; this page shows the new hits once the run is "
                              "done (about a minute for 10,000 records).")
    return redirect("workspace:quality")


@login_required
@require_GET
def quality_rule_hits(request, rule: str):
    _reader(request)
    if not _known_rule(rule):
        return render(request, "workspace/bad_request.html", {
            "message": f"{rule!r} is not a data-quality rule.", "page_title": "Not a valid address"}, status=404)
    run = selectors.latest_run()
    counts = selectors.rule_site_counts(request.user, run, rule) if run else []
    chosen = request.GET.get("site", "")
    site = next((count for count in counts if count.site_code == chosen), counts[0] if counts else None)
    hits = selectors.rule_site_hits(request.user, run, rule, site.site_id) if site else []
    here = request.get_full_path()
    # Only who may open a query on the site gets the link (a coordinator answers queries, never opens them).
    may_query = site is not None and access_for(request.user).can(Capability.OPEN_QUERY, site.site_id)
    label = selectors.rule_label_of(rule)
    rows = [(hit, query_link(hit, here, label) if may_query else None) for hit in hits]
    return render(request, "workspace/data_quality_rule.html", {
        "nav": "quality", "page_title": label, "rule": rule, "run": run, "counts": counts,
        "site": site, "rows": rows, "can_verify": access_for(request.user).can(Capability.RUN_RULES),
    })


def _visible_hit(request, pk: int) -> QualityRuleHit:
    _reader(request)
    hit = get_object_or_404(QualityRuleHit.objects.select_related("patient"), pk=pk)
    if not access_for(request.user).can_see_site(hit.site_id):
        raise Http404("No such hit.")  # as for a record of a site the user does not see: no oracle
    return hit


def _back(request):
    """Back to the page the form was on (`next`, a path of this site only), else the rules page."""
    back = request.POST.get("next", "")
    # Django's own check (it also refuses `/\\host`, which browsers read as `//host`), and a path only.
    local = back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts=set(), require_https=False)
    return redirect(back if local else reverse("workspace:quality"))


@login_required
@require_POST
def quality_hit_verify(request, pk: int):
    hit = _visible_hit(request, pk)
    services.quality_hit_verify(hit=hit, user=request.user)
    messages.success(request, f"{hit.record_id} {hit.field or hit.form}: verified as correct while the value stays "
                              "the same.")
    return _back(request)


@login_required
@require_POST
def quality_hit_query(request, pk: int):
    """One click from a hit to an open query about it, the rule and its finding as the question."""
    hit = _visible_hit(request, pk)
    try:
        query = query_open(patient=hit.patient, user=request.user,
                           text=hit_query_text(hit, selectors.rule_label_of(hit.rule)), **hit_query_target(hit))
    except QueryInvalid as error:  # e.g. the instance was deleted since the run
        messages.error(request, " ".join(message for messages_ in error.message_dict.values() for message in messages_))
        return _back(request)
    messages.success(request, f"Query {query.pk} opened on {hit.record_id}.")
    return redirect(reverse("workspace:query", args=[query.pk]))


class QualityRuleForm(forms.Form):
    name = forms.CharField(max_length=200)
    logic = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                            help_text=QualityRule._meta.get_field("logic").help_text)
    active = forms.BooleanField(required=False, initial=True)


@login_required
@require_http_methods(["GET", "POST"])
def quality_rule_edit(request, pk: int | None = None):
    _runner(request)
    rule = get_object_or_404(QualityRule, pk=pk) if pk is not None else None
    initial = {"name": rule.name, "logic": rule.logic, "active": rule.active} if rule else None
    form = QualityRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.quality_rule_save(user=request.user, rule=rule, **form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, f"Rule {saved.name!r} saved; it runs with the next run.")
            return redirect("workspace:quality")
    return render(request, "workspace/data_quality_rule_form.html", {
        "nav": "quality", "page_title": "Custom data-quality rule", "form": form, "rule": rule,
    }, status=400 if form.errors else 200)
