"""Keystone tokens at rest: what a read of the session table (or of a backup of it) yields is no token Keystone
accepts, the state folder and the SQLite database are their owner's only, and expired sessions are cleared."""

from __future__ import annotations

import json
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.accounts.session import SESSION_KEY, read
from tests.accounts.test_signin import keystone
from tests.cloudharness import admin_token
from tests.conftest import sign_in_client

# Anything that could be a token or an ID: Keystone's tokens (Fernet, JWS, UUID) are all long runs of these.
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-=.]{32,}")


def raw_session_rows() -> list[tuple[str, str]]:
    """(session_key, session_data) straight from the table, as a database read sees them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data FROM django_session")
        return list(cursor.fetchall())


def decode(data: str) -> dict:
    """A session's data, decoded as Django does (signed JSON, with the deployment's SECRET_KEY)."""
    return signing.loads(
        data, key=settings.SECRET_KEY, salt="django.contrib.sessions.SessionStore", serializer=signing.JSONSerializer
    )


def accepted_by_keystone(stratus, rows: list[tuple[str, str]]) -> list[str]:
    """Every token-like string of the rows (raw and decoded) that Keystone validates (GET /v3/auth/tokens)."""
    candidates: set[str] = set()
    for key, data in rows:
        candidates.update(TOKEN_LIKE.findall(key) + TOKEN_LIKE.findall(data))
        candidates.update(TOKEN_LIKE.findall(json.dumps(decode(data))))
    assert candidates, "nothing token-like in the session table: the check would be vacuous"
    admin = admin_token(stratus)
    return [c for c in candidates if keystone(stratus, "GET", "/auth/tokens", admin, c) == 200]


def test_the_session_table_holds_no_token_keystone_accepts(stratus, db):
    client = sign_in_client(Client(), stratus.member)
    rows = raw_session_rows()
    assert len(rows) == 1
    account = decode(rows[0][1])[SESSION_KEY]
    assert "token" not in account["creds"] and "unscoped" not in account
    assert accepted_by_keystone(stratus, rows) == []
    # Not vacuous: the session does hold a live token, sealed; with the Fernet key (the processes' environment, not
    # the database) it opens to one Keystone accepts.
    token = read(client.session).token
    assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), token) == 200
    assert token not in rows[0][1] and token not in json.dumps(account)

    # A project switch (rescoping the scoped token) leaves nothing usable behind either, and revokes the old token.
    other = stratus.second_project
    if other:
        project_id = next(p["id"] for p in account["projects"] if p["name"] == other)
        old_audit = read(client.session).body["audit_ids"]
        assert client.post("/auth/project/", {"project_id": project_id}).status_code == 302
        assert read(client.session).project_name == other
        assert accepted_by_keystone(stratus, raw_session_rows()) == []
        # Revoked, unless it is the first of the new token's chain (Keystone would revoke the new one with it).
        first_of_chain = old_audit[0] in read(client.session).body["audit_ids"]
        assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), token) == (200 if first_of_chain else 404)
        assert keystone(stratus, "GET", "/auth/tokens", admin_token(stratus), read(client.session).token) == 200


def test_a_session_holding_a_token_in_clear_is_signed_out(member_client):
    """A session written before tokens were sealed (or sealed with a replaced key) is not used: sign in again."""
    session = member_client.session
    creds = session[SESSION_KEY]["creds"]
    creds["token"] = read(session).token
    creds["sealed_token"] = "gAAAAA-not-sealed-with-this-key"
    session.save()
    response = member_client.get("/overview/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


def test_the_state_folder_and_the_database_are_their_owners_only(member_client):
    """The tests' own state folder and database, made as `make demo`'s are (dashboard/files.py)."""
    state = Path(settings.STATE_DIR)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("secret_key", "fernet_key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
    if connection.vendor != "sqlite":
        pytest.skip(f"the database is {connection.vendor}, not a file of ours")
    database = Path(connection.settings_dict["NAME"])
    assert database.exists()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_clearsessions_runs_on_the_beat_schedule_and_clears_expired_sessions(member_client, stratus):
    from django.contrib.sessions.models import Session

    from apps.accounts.tasks import clear_expired_sessions
    from dashboard.celery import app

    entry = next(e for e in app.conf.beat_schedule.values() if e["task"] == clear_expired_sessions.name)
    assert 0 < float(entry["schedule"]) <= 24 * 3600
    assert clear_expired_sessions.name in app.tasks
    live = Client()
    sign_in_client(live, stratus.member)
    expired_key = member_client.session.session_key
    Session.objects.filter(session_key=expired_key).update(expire_date=timezone.now() - timedelta(minutes=1))
    clear_expired_sessions.apply()
    keys = {key for key, _ in raw_session_rows()}
    assert expired_key not in keys
    assert live.session.session_key in keys
