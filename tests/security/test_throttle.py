"""Sign-in throttling per (domain, user, address) and per address, through the real sign-in form against Keystone.

Each test uses its own user names and documentation addresses (RFC 5737) and forgets them afterwards, so the
rest of the suite (which signs in from 127.0.0.1) is never blocked.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client, RequestFactory

from apps.accounts import throttle
from tests.security.helpers import OtherProject

WRONG = "The user name or password is not right."
BLOCKED = "Too many failed"  # the start of the message, then and now


def attempt(username: str, password: str, address: str, domain: str = "Default") -> tuple[int, str]:
    response = Client(REMOTE_ADDR=address).post(
        "/auth/login/", {"method": "password", "username": username, "password": password, "domain": domain}
    )
    return response.status_code, response.content.decode()


@pytest.fixture
def forget():
    used: list[tuple[str, str, str]] = []

    def remember(username: str, address: str, domain: str = "Default") -> None:
        used.append((username, address, domain))

    yield remember
    for username, address, domain in used:
        throttle.reset(address=address, domain=domain, username=username)


def test_a_user_blocked_from_one_address_still_signs_in_from_another(
    db, stratus, other_project: OtherProject, settings, forget
):
    settings.STRATUS_LOGIN_BLOCK_SECONDS = 300  # long: the steps below must not outlast it, however slow the machine
    user = other_project.creds
    guesser, clean = "198.51.100.1", "198.51.100.2"
    forget(user.username, guesser)
    forget(user.username, clean)
    for n in range(settings.STRATUS_LOGIN_MAX_FAILURES):
        status, html = attempt(user.username, "wrong-" + str(n), guesser)
        assert status == 200 and WRONG in html and BLOCKED not in html
    # the same user, from an address that has not failed, signs in
    assert attempt(user.username, user.password, clean)[0] == 302
    # from the guesser's address even the right password is refused with a clear message (Keystone is not asked)
    status, html = attempt(user.username, user.password, guesser)
    assert status == 200 and BLOCKED in html and WRONG not in html
    assert "Too many failed sign-in attempts from your address. Wait 5 minutes, then try again." in html
    # another user, from the guesser's address, is not affected (the address's own limit is higher)
    assert attempt(stratus.member.username, stratus.member.password, guesser)[0] == 302
    # the block ends when its counter expires (made to expire now through Redis: no waiting on the clock), then
    # the right password works from the guesser's address too
    account_key = throttle._limits("Default", user.username, guesser)[-1][0]
    assert _pttl(account_key) > 0
    redis.Redis.from_url(django_settings.REDIS_URL).pexpire(cache.make_key(account_key), 0)
    assert attempt(user.username, user.password, guesser)[0] == 302


def test_the_lockout_does_not_spread_to_another_domain(db, stratus, other_project: OtherProject, settings, forget):
    """Guessing `<name>` in another domain (one that does not even exist) locks nobody out of the real `<name>`."""
    user = other_project.creds
    address = "198.51.100.20"
    forget(user.username, address, "elsewhere")
    forget(user.username, address)
    for n in range(settings.STRATUS_LOGIN_MAX_FAILURES):
        assert WRONG in attempt(user.username, "wrong-" + str(n), address, domain="elsewhere")[1]
    assert BLOCKED in attempt(user.username, user.password, address, domain="elsewhere")[1]
    # the user of that name in the Default domain, from the very same address: Keystone is asked, and lets them in
    assert WRONG in attempt(user.username, "still-wrong", address)[1]
    assert attempt(user.username, user.password, address)[0] == 302


def test_ten_parallel_wrong_passwords_count_as_ten(db, stratus, other_project: OtherProject, settings, forget):
    """Ten wrong passwords at once: only STRATUS_LOGIN_MAX_FAILURES (5) reach Keystone, the others are refused.
    The count is taken before Keystone is asked; counting after it let all ten through. On devcloud Keystone is
    made to take a second per token, so the ten certainly overlap; a real Keystone is slow enough by itself."""
    user = other_project.creds
    address = "198.51.100.30"
    forget(user.username, address)
    limit = settings.STRATUS_LOGIN_MAX_FAILURES
    assert limit == 5
    if stratus.is_devcloud:
        stratus.control(
            "faults", {"service": "identity", "method": "POST", "path": "auth/tokens", "stall": 1.0, "count": 10}
        )
    start = threading.Barrier(10)
    answers: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        start.wait(timeout=30)
        html = attempt(user.username, f"guess-{n}", address)[1]
        with lock:
            answers.append("wrong" if WRONG in html else "blocked" if BLOCKED in html else html[:300])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(10)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        if stratus.is_devcloud:
            stratus.control("faults", method="DELETE")
    assert sorted(answers) == ["blocked"] * (10 - limit) + ["wrong"] * limit
    # all ten counted: the right password is now refused from that address
    assert BLOCKED in attempt(user.username, user.password, address)[1]


def test_no_request_sleeps(db, stratus, other_project: OtherProject, settings, monkeypatch, forget):
    """Failures are never answered late on purpose: a sleeping request holds a web worker (the attacker's win)."""
    user = other_project.creds
    address = "198.51.100.40"
    forget(user.username, address)
    slept: list[float] = []
    me = threading.get_ident()  # the test client answers in this thread
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        if threading.get_ident() == me:
            slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    answers = [attempt(user.username, f"nope-{n}", address)[1] for n in range(settings.STRATUS_LOGIN_MAX_FAILURES + 2)]
    assert all(WRONG in html for html in answers[: settings.STRATUS_LOGIN_MAX_FAILURES])
    assert all(BLOCKED in html for html in answers[settings.STRATUS_LOGIN_MAX_FAILURES :])
    assert slept == []


def test_it_blocks_an_address_that_tries_many_user_names(db, stratus, settings, forget):
    settings.STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    address, elsewhere = "203.0.113.7", "203.0.113.8"
    forget(stratus.member.username, address)
    forget(stratus.member.username, elsewhere)
    for _ in range(6):
        name = "nobody-" + uuid.uuid4().hex[:8]
        forget(name, address)
        status, html = attempt(name, "guess", address)
        assert WRONG in html
    status, html = attempt(stratus.member.username, stratus.member.password, address)
    assert status == 200 and BLOCKED in html
    status, _ = attempt(stratus.member.username, stratus.member.password, elsewhere)
    assert status == 302


def test_a_success_clears_the_users_failures(db, stratus, other_project: OtherProject, forget):
    user = other_project.creds
    forget(user.username, "198.51.100.50")
    for _ in range(2):
        for _ in range(3):
            assert WRONG in attempt(user.username, "nope", "198.51.100.50")[1]
        assert attempt(user.username, user.password, "198.51.100.50")[0] == 302  # 3 failures, then success


def test_the_address_behind_trusted_proxies_is_the_clients(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10")
    settings.STRATUS_TRUSTED_PROXIES = 0
    assert throttle.client_address(request) == "10.0.0.2"  # no proxy trusted: the header is ignored
    settings.STRATUS_TRUSTED_PROXIES = 1
    assert throttle.client_address(request) == "192.0.2.10"  # what our proxy saw, not what the client claims


def test_the_blocked_message_is_in_vietnamese_too(db, stratus, settings, forget):
    address = "198.51.100.60"
    name = "nobody-" + uuid.uuid4().hex[:8]
    forget(name, address)
    settings.STRATUS_LOGIN_MAX_FAILURES = 1
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="vi")
    body = {"method": "password", "username": name, "password": "x", "domain": "Default"}
    assert "Tên người dùng hoặc mật khẩu không đúng." in client.post("/auth/login/", body).content.decode()
    html = client.post("/auth/login/", body).content.decode()
    assert "Có quá nhiều lần đăng nhập thất bại từ địa chỉ của bạn. Hãy đợi 5 phút rồi thử lại." in html


def test_sign_in_still_works_when_the_cache_is_down(db, stratus, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # pytest-django's settings fixture resets the cache handlers when CACHES changes, and back afterwards
    assert WRONG in attempt(stratus.member.username, "nope", "198.51.100.77")[1]
    assert attempt(stratus.member.username, stratus.member.password, "198.51.100.77")[0] == 302


def _pttl(key: str) -> int:
    """The counter's remaining life in ms, read from Redis itself (Django's cache API has no TTL read)."""
    return redis.Redis.from_url(django_settings.REDIS_URL).pttl(cache.make_key(key))


def _age(key: str, ms: int) -> None:
    """As if the counter had been set long ago: only `ms` of its life left."""
    assert redis.Redis.from_url(django_settings.REDIS_URL).pexpire(cache.make_key(key), ms)


def test_successes_from_an_address_do_not_keep_its_failures_alive(settings, forget):
    """On a shared address (an office NAT) steady sign-ins must not push back the expiry of earlier typos: the
    counters expire STRATUS_LOGIN_BLOCK_SECONDS after the last *failure*. Only a failure sets a full block again."""
    settings.STRATUS_LOGIN_BLOCK_SECONDS = 300
    address, typist = "192.0.2.90", "typist-" + uuid.uuid4().hex[:8]
    forget(typist, address)
    address_key, typist_key = (key for key, _limit in throttle._limits("Default", typist, address))
    bad = throttle.begin(domain="Default", username=typist, address=address)
    assert not bad.blocked
    throttle.failed(bad)
    assert _pttl(address_key) > 250_000 and _pttl(typist_key) > 250_000
    _age(address_key, 60_000)
    for n in range(5):  # colleagues sign in from the same address
        colleague = f"colleague-{n}-" + uuid.uuid4().hex[:8]
        forget(colleague, address)
        ok = throttle.begin(domain="Default", username=colleague, address=address)
        assert not ok.blocked
        throttle.succeeded(ok)
    assert 0 < _pttl(address_key) <= 60_000  # still the typo's expiry, not pushed back
    # a refused attempt does not extend a block either
    settings.STRATUS_LOGIN_MAX_FAILURES = 1
    _age(typist_key, 60_000)
    assert throttle.begin(domain="Default", username=typist, address=address).blocked
    assert 0 < _pttl(typist_key) <= 60_000
    # another failure does: a full block from now, for both counters it keeps
    settings.STRATUS_LOGIN_MAX_FAILURES = 5
    again = throttle.begin(domain="Default", username=typist, address=address)
    assert not again.blocked
    throttle.failed(again)
    assert _pttl(address_key) > 250_000 and _pttl(typist_key) > 250_000
