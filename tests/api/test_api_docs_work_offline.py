"""``/docs`` is Swagger UI served from the installed package, not from a CDN, so it works on a
machine without internet access; ``/openapi.json`` stays; ReDoc (CDN only) is off."""

from __future__ import annotations

import re


def test_docs_page_loads_its_assets_from_the_api_itself(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(src.startswith("/docs/assets/") for src in sources), sources
    assert "cdn" not in page.text.lower()
    for src in sources:
        asset = client.get(src)
        assert asset.status_code == 200, src
        assert len(asset.content) > 100


def test_openapi_schema_is_served_and_redoc_is_off(client):
    assert client.get("/openapi.json").json()["info"]["title"] == "stackctl"
    assert client.get("/redoc").status_code == 404
