"""Sign-in throttling per user and per address, through the real sign-in form against Keystone.

Each test uses its own user names and documentation addresses (RFC 5737) and forgets them afterwards, so the
rest of the suite (which signs in from 127.0.0.1) is never blocked.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client, RequestFactory

from apps.accounts import throttle
from tests.security.helpers import OtherProject

WRONG = "The user name or password is not right."
BLOCKED = "Too many failed attempts. Wait a few minutes, then try again."


def attempt(creds_username: str, password: str, address: str) -> tuple[int, str]:
    response = Client(REMOTE_ADDR=address).post(
        "/auth/login/", {"method": "password", "username": creds_username, "password": password, "domain": "Default"}
    )
    return response.status_code, response.content.decode()


@pytest.fixture
def forget():
    used: list[tuple[str, str]] = []
    yield used.append
    for username, address in used:
        throttle.reset(username, address)


def test_it_blocks_a_user_name_after_repeated_failures_then_lets_it_in_again(
    db, stratus, other_project: OtherProject, settings, forget
):
    settings.STRATUS_LOGIN_BLOCK_SECONDS = 2
    user = other_project.creds
    addresses = [f"198.51.100.{n}" for n in range(1, 10)]
    for address in addresses:
        forget((user.username, address))
    for n in range(settings.STRATUS_LOGIN_MAX_FAILURES):
        status, html = attempt(user.username, "wrong-" + str(n), addresses[n])
        assert status == 200 and WRONG in html and BLOCKED not in html
    # blocked: even the right password, from yet another address, is refused with a clear message
    status, html = attempt(user.username, user.password, addresses[-1])
    assert status == 200 and BLOCKED in html and WRONG not in html
    # another user is not affected
    status, _ = attempt(stratus.member.username, stratus.member.password, addresses[-2])
    assert status == 302
    # the block lasts a while, then the right password works
    deadline = time.monotonic() + 15
    while (result := attempt(user.username, user.password, addresses[-1]))[0] != 302:
        assert BLOCKED in result[1]
        assert time.monotonic() < deadline, "still blocked long after STRATUS_LOGIN_BLOCK_SECONDS"
        time.sleep(0.5)


def test_it_blocks_an_address_that_tries_many_user_names(db, stratus, settings, forget):
    settings.STRATUS_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    address, elsewhere = "203.0.113.7", "203.0.113.8"
    forget((stratus.member.username, address))
    forget((stratus.member.username, elsewhere))
    for _ in range(6):
        name = "nobody-" + uuid.uuid4().hex[:8]
        forget((name, address))
        status, html = attempt(name, "guess", address)
        assert WRONG in html
    status, html = attempt(stratus.member.username, stratus.member.password, address)
    assert status == 200 and BLOCKED in html
    status, _ = attempt(stratus.member.username, stratus.member.password, elsewhere)
    assert status == 302


def test_a_success_clears_the_users_failures(db, stratus, other_project: OtherProject, forget):
    user = other_project.creds
    forget((user.username, "198.51.100.50"))
    for _ in range(2):
        for _ in range(3):
            assert WRONG in attempt(user.username, "nope", "198.51.100.50")[1]
        assert attempt(user.username, user.password, "198.51.100.50")[0] == 302  # 3 failures, then success


def test_failures_slow_down_before_the_block():
    delays = [throttle.delay_for(n) for n in range(1, 8)]
    assert delays[:2] == [0.0, 0.0]  # a person mistyping twice waits for nothing
    assert all(later >= earlier for earlier, later in zip(delays, delays[1:], strict=False))
    assert delays[2] > 0 and delays[-1] <= 2.0


def test_the_address_behind_trusted_proxies_is_the_clients(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10")
    settings.STRATUS_TRUSTED_PROXIES = 0
    assert throttle.client_address(request) == "10.0.0.2"  # no proxy trusted: the header is ignored
    settings.STRATUS_TRUSTED_PROXIES = 1
    assert throttle.client_address(request) == "192.0.2.10"  # what our proxy saw, not what the client claims


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
