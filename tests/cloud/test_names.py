"""Names Nova constrains by pattern are checked on the form, with a message next to the field that a person
understands, never Nova's "'fl/x' does not match '^(?! )[^\\x00-\\x1f/]*(?<! )$'"; a name of spaces only is
"missing", and what was typed stays in the field."""

from __future__ import annotations

import html
import re

import pytest

from tests.instances.conftest import boot


def _field(page: str) -> tuple[str, list[str]]:
    value = re.search(r'<input[^>]*name="name"[^>]*value="([^"]*)"', page)
    errors = re.findall(r'<p class="error" id="id_name-error" role="alert">([^<]*)</p>', page)
    return html.unescape(value.group(1)) if value else "", [html.unescape(e) for e in errors]


@pytest.fixture
def server(stratus):
    from tests.cloudharness import project_lock
    from tests.instances.conftest import _demo_conn

    with project_lock(stratus):
        conns = _demo_conn()
        conn = next(conns)
        yield boot(conn, "t-names")
        next(conns, None)


def test_every_name_field_says_what_is_wrong_and_keeps_what_was_typed(member_client, admin_client, server):
    flavor = {"vcpus": "1", "ram": "64", "disk": "1"}
    cases = [
        # (client, url, other fields, typed name, message next to the field)
        (admin_client, "/flavors/create/", flavor, "fl/x", "A flavor name cannot contain “/”."),
        (admin_client, "/flavors/create/", flavor, "   ", "Give the flavor a name."),
        (admin_client, "/flavors/create/", flavor, " fl", "A name cannot start or end with a space."),
        (admin_client, "/flavors/create/", flavor, "fl\tx", "A name cannot contain control characters"),
        (member_client, "/keypairs/create/", {"algorithm": "ed25519"}, "   ", "Give the key pair a name."),
        (member_client, "/keypairs/import/", {"public_key": ""}, "   ", "Give the key pair a name."),
        (member_client, "/keypairs/create/", {"algorithm": "ed25519"}, "a/b", "Use only letters, digits, spaces"),
        (member_client, "/instances/launch/", {"count": "1", "source": "image"}, "   ", "Give the instance a name."),
        (member_client, "/instances/launch/", {"count": "1", "source": "image"}, "web\x01", "control characters"),
        (member_client, f"/instances/{server.id}/rename/", {}, "   ", "Give the instance a name."),
        (member_client, f"/instances/{server.id}/rename/", {}, "a\x1bb", "control characters"),
        (member_client, f"/instances/{server.id}/snapshot/", {}, "   ", "Give the snapshot a name."),
        (member_client, "/snapshots/create/", {"server_id": server.id}, "   ", "Give the snapshot a name."),
        (member_client, "/snapshots/create/", {"server_id": server.id}, "s\x7f", "control characters"),
    ]
    for client, url, data, name, message in cases:
        response = client.post(url, {**data, "name": name})
        page = response.content.decode()
        value, errors = _field(page)
        assert response.status_code in (200, 400), (url, name, response.status_code)
        assert any(message in e for e in errors), (url, name, errors)
        assert "does not match" not in page, (url, name)
        if name.isprintable():
            assert value == name, (url, name, value)  # what was typed stays


def test_a_description_with_a_line_break_is_refused_on_the_form(member_client, admin_client):
    """Nova takes a description of printable characters only; a line break got its raw pattern back."""
    flavor = {"name": "t-desc", "vcpus": "1", "ram": "64", "disk": "1", "description": "two\nlines"}
    launch = {"name": "t-desc", "count": "1", "source": "image", "description": "tab\there"}
    cases = ((admin_client, "/flavors/create/", flavor), (member_client, "/instances/launch/", launch))
    for client, url, data in cases:
        page = client.post(url, data).content.decode()
        errors = re.findall(r'<p class="error" id="id_description-error" role="alert">([^<]*)</p>', page)
        assert errors == ["A description is one line of text: no tabs, line breaks or other control characters."], (
            url,
            errors,
        )
