"""The worklist (the page a coordinator lands on after logging in) and the list of every record.

Both read through registry/selectors/worklist.py and only shape links here. An htmx request (a
category tab, a sort or a page link, the site filter) is answered with the list's fragment, the same
view's template part; a plain request with the whole page.
"""
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from registry.selectors import worklist as selectors
from registry.selectors.access import visible_sites


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str
    current: bool = False
    count: int | None = None
    direction: str = ""  # a sort link's current direction: "asc", "desc" or ""


def _url(name: str, **params) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "", 1)}
    query = urlencode(kept)
    return reverse(name) + (f"?{query}" if query else "")


def _fragment_or_page(request, page_template: str, fragment_template: str, context: dict, status: int = 200):
    template = fragment_template if getattr(request, "htmx", False) else page_template
    response = render(request, template, context, status=status)
    # The same address answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _bad_request(request, message: str):
    return render(request, "workspace/bad_request.html", {"message": message, "page_title": "Not a valid address"},
                  status=400)


@login_required
@require_GET
def worklist(request):
    try:
        result = selectors.worklist(
            request.user, category=request.GET.get("category"), site=request.GET.get("site"),
            sort=request.GET.get("sort"), page=request.GET.get("page"),
        )
    except selectors.WorklistParameterError as error:
        return _bad_request(request, str(error))
    site = result.site.code if result.site else None
    # The category tabs keep the site; the sort links keep category and site; the pages keep all three.
    tabs = [
        Link(category.key, category.label, _url("workspace:worklist", category=category.key, site=site),
             current=category.key == result.category, count=category.count)
        for category in result.categories
    ]
    sort_links = {
        choice.key: Link(choice.key, choice.label, _url("workspace:worklist", category=result.category, site=site,
                                            sort=choice.next_value), direction=choice.direction)
        for choice in result.sort_choices
    }

    def page_url(number: int) -> str:
        return _url("workspace:worklist", category=result.category, site=site, sort=result.sort, page=number)

    context = {
        "nav": "worklist",
        "page_title": "Worklist",
        "worklist": result,
        "tabs": tabs,
        "sort_links": sort_links,
        "previous_url": page_url(result.page - 1) if result.page > 1 else "",
        "next_url": page_url(result.page + 1) if result.page < result.page_count else "",
        "site_code": site or "",
        "list_url": reverse("workspace:worklist"),
    }
    return _fragment_or_page(request, "workspace/worklist.html", "workspace/fragments/worklist_list.html", context)


@login_required
@require_GET
def records(request):
    sites = list(visible_sites(request.user).order_by("code"))
    search = request.GET.get("q", "").strip()
    if "\x00" in search:  # PostgreSQL refuses a NUL in a string: answer it here, not with a server error
        return _bad_request(request, "A record ID cannot contain a NUL character.")
    site_code = request.GET.get("site", "")
    site = next((candidate for candidate in sites if candidate.code == site_code), None)
    if site_code and site is None:
        return _bad_request(request, f"No site {site_code!r} among the sites you see.")
    try:
        page_number = selectors.parse_page(request.GET.get("page"))
    except selectors.WorklistParameterError as error:
        return _bad_request(request, str(error))
    patients = selectors.visible_records(request.user, search=search, site=site)
    paginator = Paginator(patients, selectors.PAGE_SIZE)
    page = paginator.get_page(page_number)

    def page_url(number: int) -> str:
        return _url("workspace:records", q=search, site=site_code, page=number)

    context = {
        "nav": "records",
        "page_title": "Records",
        "page_obj": page,
        "rows": selectors.record_rows(page.object_list, sites),
        "sites": sites,
        "site_code": site_code,
        "search": search,
        "has_access": bool(sites),
        "previous_url": page_url(page.number - 1) if page.has_previous() else "",
        "next_url": page_url(page.number + 1) if page.has_next() else "",
        "list_url": reverse("workspace:records"),
    }
    return _fragment_or_page(request, "workspace/records.html", "workspace/fragments/records_list.html", context)
