"""The interactive API docs work without the internet and under the Content-Security-Policy: the pages
and everything they load come from the registry, and nothing in them fetches from another host."""
import re

import pytest

pytestmark = pytest.mark.django_db

ANY_URL = re.compile(r"https?://", re.IGNORECASE)
# Hosts the docs' libraries load from by default: Google Fonts (ReDoc's theme), ReDoc's logo, the
# CDNs of drf-spectacular's templates. (Swagger UI's bundle names its online validator as a default
# that the start script turns off: test_swagger_ui_starts_without_the_online_validator.)
REMOTE_HOSTS = ("fonts.googleapis.com", "fonts.gstatic.com", "cdn.redoc.ly", "cdn.jsdelivr.net", "unpkg.com")


def _assets(html: str) -> list[str]:
    return re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)


def _text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")  # the favicon is a PNG


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_a_docs_page_names_no_other_host_and_loads_each_asset_from_the_registry(client, page):
    response = client.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert ANY_URL.findall(html) == []
    assets = _assets(html)
    assert assets and all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_docs_own_scripts_and_styles_name_no_other_host(client):
    swagger = client.get("/api/docs/").content.decode()
    redoc = client.get("/api/redoc/").content.decode()
    own = [asset for asset in _assets(swagger) + _assets(redoc)
           if "?script" in asset or asset.startswith("/static/registry/")]

    assert sorted(own) == sorted([
        "/api/docs/?script=", "/static/registry/api_docs.css", "/static/registry/api_docs.css",
        "/static/registry/redoc_init.js",
    ])
    for asset in own:
        assert ANY_URL.findall(_text(client.get(asset))) == [], asset


def test_swagger_ui_starts_without_the_online_validator(client):
    script = _text(client.get("/api/docs/?script="))

    assert '"validatorUrl": null' in script


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_nothing_a_docs_page_loads_fetches_fonts_logos_or_scripts_from_a_cdn(client, page):
    html = client.get(page).content.decode()

    for asset in _assets(html):
        text = _text(client.get(asset))
        assert [host for host in REMOTE_HOSTS if host in text] == [], asset


def test_the_docs_stylesheets_import_nothing_and_use_only_data_urls():
    from django.contrib.staticfiles import finders

    for name in ("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", "registry/api_docs.css"):
        with open(finders.find(name), encoding="utf-8") as stylesheet:
            css = stylesheet.read()
        assert "@import" not in css, name
        assert {url[:5] for url in re.findall(r"url\(\s*[\"']?([^\"')]*)", css)} <= {"data:"}, name


def test_redoc_is_served_without_its_remote_logo(client):
    bundle = _text(client.get("/api/redoc/redoc.standalone.js"))

    assert "cdn.redoc.ly" not in bundle
    assert 'alt:"redocly logo",onError:()=>t(!1),src:"data:image/gif;base64,' in bundle
