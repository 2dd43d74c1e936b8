"""The interactive API docs (/api/docs/ Swagger UI, /api/redoc/ ReDoc), served from the registry alone.

Their JavaScript and CSS come from drf-spectacular-sidecar. ReDoc's bundle shows a logo in its
sidebar from its maker's CDN, which the Content-Security-Policy refuses (and which a closed hospital
network cannot reach): the bundle is served here with that one image replaced by an empty one.
"""
from functools import cache

from csp.decorators import csp_update

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.views.decorators.http import require_GET

# ReDoc (the sidecar's pinned bundle) sets two style attributes itself as it draws the page: an empty one
# and one of its own. Seen as CSP violations in Chromium; the ReDoc page alone allows exactly these two
# attribute values by their hashes ('unsafe-hashes' covers style attributes, never a <style> element or
# a script). A new sidecar release (pinned in requirements.txt) may change them: look again in a browser.
REDOC_STYLE_ATTRIBUTE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # style="" (the hash of no text)
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)
redoc_page_policy = csp_update({"style-src": ["'unsafe-hashes'", *REDOC_STYLE_ATTRIBUTE_HASHES]})

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
