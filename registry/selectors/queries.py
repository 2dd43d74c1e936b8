"""Reads of queries (registry/models/queries.py), narrowed by the one access rule: a user sees the
queries of the records they see, and nothing else.

    visible_queries(user, site=..., state=..., record=...)  the list, with patient, site and opener
    visible_query(user, query_id)                          one query with its thread, or None
    queried_fields(patient, form, instance)                field → its unresolved query (form markers)
    record_queries(patient)                                a record's queries, newest first
    query_figures(user)                                    per site: open, responded, closed, median days to close
    query_csv_rows(queries)                                the monitoring export's rows
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from registry.models import Patient, Query, QueryMessage, QueryState, Site
from registry.models.queries import UNRESOLVED_STATES
from registry.selectors.access import restrict_to_visible, visible_sites

SECONDS_PER_DAY = 86400


class QueryFilterError(ValueError):
    """A filter value the list does not offer; the message names the value and what is offered."""


def _parse_state(value: str | None) -> str | None:
    if not value:
        return None
    if value not in QueryState.values:
        raise QueryFilterError(f"Unknown query state {value!r}; the states are: {', '.join(QueryState.values)}.")
    return value


def visible_queries(user, *, site: str | None = None, state: str | None = None,
                    record: str | list[str] | None = None) -> QuerySet[Query]:
    """The queries of the records `user` sees, newest first; `site` is a site code, `state` a
    QueryState value, `record` a record ID (exact, ignoring letter case) or a list of record IDs
    (exact, as the API takes them). A site the user does not
    see gives no rows (the same as a site that does not exist). One query when evaluated (patient,
    site and opener joined)."""
    state = _parse_state(state)
    queries = restrict_to_visible(Query.objects.all(), user, site_path="patient__site_id")
    if site:
        queries = queries.filter(patient__site__code=site)
    if state:
        queries = queries.filter(state=state)
    if isinstance(record, list):
        queries = queries.filter(patient__record_id__in=record)
    elif record:
        queries = queries.filter(patient__record_id__iexact=record)
    return queries.select_related("patient", "patient__site", "opened_by").order_by("-opened_at", "-id")


def visible_query(user, query_id: int) -> Query | None:
    """One query the user sees, with its thread and the thread's authors (two queries), or None."""
    return (restrict_to_visible(Query.objects.all(), user, site_path="patient__site_id")
            .select_related("patient", "patient__site", "opened_by")
            .prefetch_related(Prefetch("messages", queryset=QueryMessage.objects.select_related("author")))
            .filter(pk=query_id).first())


def queried_fields(patient: Patient, form: str, instance: int | None) -> dict[str, Query]:
    """The fields of one form instance that have an unresolved (open or responded) query: field name →
    the oldest such query. One query. What the form pages mark beside their fields."""
    found: dict[str, Query] = {}
    queries = Query.objects.filter(patient=patient, form=form, instance_number=instance,
                                   state__in=UNRESOLVED_STATES).exclude(field="").order_by("opened_at", "id")
    for query in queries:
        found.setdefault(query.field, query)
    return found


def record_queries(patient: Patient) -> list[Query]:
    """Every query of the record, newest first (one query)."""
    return list(Query.objects.filter(patient=patient).select_related("opened_by").order_by("-opened_at", "-id"))


def unresolved_queries(site_ids: list[int] | None) -> QuerySet[Query]:
    """The open or responded queries of the sites `site_ids` (None: every site), for the worklist."""
    queries = Query.objects.filter(state__in=UNRESOLVED_STATES)
    return queries if site_ids is None else queries.filter(patient__site_id__in=site_ids)


@dataclass(frozen=True)
class SiteQueryFigures:
    site_code: str
    open: int
    responded: int
    closed: int
    median_days_to_close: float | None  # None: no query of the site is closed


def median_days_to_close(durations_seconds: list[float]) -> float | None:
    """The median, in days to one decimal, of the time from opening to the (last) close."""
    if not durations_seconds:
        return None
    return round(statistics.median(durations_seconds) / SECONDS_PER_DAY, 1)


def query_figures(user) -> list[SiteQueryFigures]:
    """Per site the user sees (by code): how many queries are open, responded and closed, and the
    median number of days from opening to closing of the closed ones (a reopened query counts from its
    opening to its last close). Three queries: the sites, the counts, the closed queries' two times."""
    sites = list(visible_sites(user).order_by("code"))
    site_ids = [site.id for site in sites]
    counts = {
        row["patient__site_id"]: row
        for row in Query.objects.filter(patient__site_id__in=site_ids).values("patient__site_id").annotate(
            open=Count("id", filter=Q(state=QueryState.OPEN)),
            responded=Count("id", filter=Q(state=QueryState.RESPONDED)),
            closed=Count("id", filter=Q(state=QueryState.CLOSED)),
        ).order_by()
    }
    durations: dict[int, list[float]] = {}
    for site_id, opened_at, closed_at in Query.objects.filter(
            patient__site_id__in=site_ids, state=QueryState.CLOSED).values_list(
            "patient__site_id", "opened_at", "closed_at"):
        durations.setdefault(site_id, []).append((closed_at - opened_at).total_seconds())
    figures = []
    for site in sites:
        row = counts.get(site.id, {})
        figures.append(SiteQueryFigures(
            site_code=site.code, open=row.get("open", 0), responded=row.get("responded", 0),
            closed=row.get("closed", 0), median_days_to_close=median_days_to_close(durations.get(site.id, [])),
        ))
    return figures


CSV_HEADER = ("query_id", "site", "record_id", "instrument", "instance", "field", "state", "opened_by",
              "opened_at", "closed_at", "days_to_close", "messages", "first_message", "last_message")


def query_csv_rows(queries: QuerySet[Query]):
    """The monitoring export: one row per query (CSV_HEADER's columns), times in UTC ISO 8601. Two
    queries: the queries (with patient, site, opener) and their messages."""
    queries = queries.prefetch_related(Prefetch("messages", queryset=QueryMessage.objects.order_by("created_at", "id")))
    for query in queries:
        messages = list(query.messages.all())
        days = ("" if query.closed_at is None
                else f"{(query.closed_at - query.opened_at).total_seconds() / SECONDS_PER_DAY:.1f}")
        yield (
            query.pk, query.patient.site.code, query.patient.record_id, query.form,
            "" if query.instance_number is None else query.instance_number, query.field, query.state,
            query.opened_by.get_username(), query.opened_at.isoformat(),
            query.closed_at.isoformat() if query.closed_at else "", days, len(messages),
            messages[0].text if messages else "", messages[-1].text if messages else "",
        )


def sites_for_filter(user) -> list[Site]:
    return list(visible_sites(user).order_by("code"))
