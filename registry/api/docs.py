"""The interactive API docs (/api/docs/ Swagger UI, /api/redoc/ ReDoc), served from the registry alone.

Their JavaScript and CSS come from drf-spectacular-sidecar. ReDoc's bundle shows a logo in its
sidebar from its maker's CDN, which the Content-Security-Policy refuses (and which a closed hospital
network cannot reach): the bundle is served here with that one image replaced by an empty one.
"""
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.views.decorators.http import require_GET

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REMOTE_LOGO = 'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'
EMPTY_IMAGE = 'src:"data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="'


@cache
def redoc_bundle_text() -> str:
    path = finders.find(REDOC_BUNDLE)
    with open(path, encoding="utf-8") as bundle:
        text = bundle.read()
    if REMOTE_LOGO not in text:
        # A new sidecar release moved the logo: tests/api/test_docs_offline.py says so too.
        raise RuntimeError(f"ReDoc's remote logo is no longer where {__name__} replaces it")
    # The source map is not served here; without the comment browsers do not ask for it.
    return text.replace(REMOTE_LOGO, EMPTY_IMAGE).replace("//# sourceMappingURL=redoc.standalone.js.map", "")


@require_GET
def redoc_bundle(request):
    return HttpResponse(redoc_bundle_text(), content_type="application/javascript; charset=utf-8")
