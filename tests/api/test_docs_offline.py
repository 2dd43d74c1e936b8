"""The interactive API docs work without the internet: their assets are served by the registry."""
import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_page_loads_its_scripts_from_the_registry_not_a_cdn(client, page):
    response = client.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(src.startswith("/static/") for src in scripts), scripts
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    for src in scripts:
        assert client.get(src).status_code == 200, src
