"""What the per-request shortcuts of issue 9 must keep: the same sessions, texts, URLs and HTTP settings as the
long way round. (Their speed is measured by `make bench`, not here.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone, translation

from apps.cloud import connection
from dashboard.memo import fixed_reverse
from dashboard.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_reads_back_what_was_saved_until_it_expires() -> None:
    store = SessionStore()
    store["stratus_account"] = {"token": "t", "projects": [{"id": "p", "name": "ação"}]}
    store.save()
    key = store.session_key

    assert SessionStore(key)["stratus_account"] == {"token": "t", "projects": [{"id": "p", "name": "ação"}]}

    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.get("stratus_account") is None
    assert expired.session_key is None  # an expired key is not reused: the next save makes a new one


def test_an_unknown_session_key_reads_as_empty() -> None:
    store = SessionStore("x" * 32)
    assert dict(store.items()) == {}
    assert store.session_key is None


def test_remembered_routes_equal_reverse() -> None:
    assert fixed_reverse("keypairs:list") == reverse("keypairs:list")
    assert fixed_reverse("instances:action", "abc", "stop") == reverse("instances:action", args=["abc", "stop"])


def test_remembered_action_labels_follow_the_language() -> None:
    from apps.instances.views import _action_labels

    with translation.override("en"):
        english = _action_labels()["stop"]
    with translation.override("vi"):
        vietnamese = _action_labels()["stop"]
    with translation.override("en"):
        assert _action_labels()["stop"] == english == "Stop"
    assert vietnamese not in ("", "Stop")


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name)


def test_without_a_proxy_cloud_calls_skip_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    sess = connection.keystone_session()
    assert sess.session.trust_env is False
    assert sess.verify == "/etc/ssl/certs/bundle.pem"  # the bundle requests would have read is still used


def test_a_configured_proxy_keeps_requests_reading_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    sess = connection.keystone_session()
    assert sess.session.trust_env is True
    assert sess.verify is True
