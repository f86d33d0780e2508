"""Every URL pattern marked admin-only answers 403 to a member, for GET and POST."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def walk(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def concrete(route: str) -> str:
    path = re.sub(r"<(?:\w+:)?\w+>", PLACEHOLDER, route)
    return "/" + path.lstrip("^").rstrip("$")


def access_of(pattern: URLPattern) -> str | None:
    return getattr(pattern.callback, "stratus_access", None)


def admin_routes() -> list[str]:
    return [concrete(route) for route, pattern in walk(get_resolver()) if access_of(pattern) == "admin"]


def test_every_admin_url_is_forbidden_to_members(member_client):
    routes = admin_routes()
    for url in routes:
        for method in ("get", "post"):
            response = getattr(member_client, method)(url)
            assert response.status_code in (403, 405), f"{method.upper()} {url} -> {response.status_code}"
            if response.status_code == 403:
                assert "You are not allowed to see this page" in response.content.decode()


def test_every_page_needs_sign_in(db, stratus):
    from django.test import Client

    client = Client()
    for route, pattern in walk(get_resolver()):
        if access_of(pattern) is None:
            continue
        url = concrete(route)
        response = client.get(url)
        assert response.status_code in (302, 405), f"GET {url} -> {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith("/auth/login/?next=")
