"""NUL characters never reach a view (PostgreSQL cannot store them; found by the form fuzzing on PostgreSQL)."""

from __future__ import annotations

from tests.security.helpers import routes


def test_a_nul_character_anywhere_in_a_request_is_refused(admin_client):
    for route in routes():
        url = route.url()
        assert admin_client.post(url, {"name": "a\x00b", "reason": "x"}).status_code in (400, 405), url
        assert admin_client.post(url, {"k\x00": "v"}).status_code in (400, 405), url
        assert admin_client.get(url, {"q": "\x00"}).status_code == 400, url
    assert admin_client.get("/instances/%00/").status_code == 400
    assert admin_client.get("/overview/").status_code == 200  # and the session is still fine
