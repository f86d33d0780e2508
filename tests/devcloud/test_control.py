"""devcloud's /devcloud/ control API: health, admin-only policy, fault injection per service (right status
and error shape, for exactly N calls), stalls, build failures, request counters and added latency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.devcloud import Session, call, login, password_auth_body

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

pytestmark = pytest.mark.devcloud_only


@pytest.fixture
def admin(devcloud: TestCloud) -> Iterator[Session]:
    session = login(devcloud.admin)
    yield session
    call("DELETE", devcloud.base_url + "/devcloud/faults", session.token)
    call("POST", devcloud.base_url + "/devcloud/latency", session.token, {"seconds": 0})
    call("DELETE", devcloud.base_url + "/devcloud/build-failures", session.token)


def _fault(cloud: TestCloud, admin: Session, **spec: object) -> dict:
    reply = call("POST", cloud.base_url + "/devcloud/faults", admin.token, spec)
    assert reply.status == 201, reply.raw
    return reply.body["fault"]


def test_health_and_docs_need_no_token(devcloud: TestCloud) -> None:
    reply = call("GET", devcloud.base_url + "/devcloud/health")
    assert reply.status == 200 and reply.body["status"] == "ok"
    docs = call("GET", devcloud.base_url + "/devcloud/")
    assert docs.status == 200 and "POST /devcloud/faults" in docs.body["devcloud"]["endpoints"]


def test_member_is_forbidden(devcloud: TestCloud) -> None:
    member = login(devcloud.member)
    for method, path in (("GET", "faults"), ("POST", "faults"), ("GET", "requests"), ("POST", "latency")):
        reply = call(method, f"{devcloud.base_url}/devcloud/{path}", member.token, {} if method == "POST" else None)
        assert reply.status == 403, path
        assert reply.body["error"]["code"] == 403
    assert call("GET", devcloud.base_url + "/devcloud/faults").status == 401


def test_image_fault_for_next_n_calls(devcloud: TestCloud, admin: Session) -> None:
    url = admin.url("image") + "/v2/images"
    fault = _fault(devcloud, admin, service="image", method="GET", path="^/v2/images$", status=503, count=2)
    assert fault["remaining"] == 2
    # A different path of the same service is not matched.
    assert admin.call("GET", admin.url("image") + "/v2/schemas/image").status == 200
    for _ in range(2):
        reply = admin.call("GET", url)
        assert reply.status == 503
        assert reply.body["code"].startswith("503") and reply.body["title"] == "Service Unavailable"
    assert admin.call("GET", url).status == 200
    assert call("GET", devcloud.base_url + "/devcloud/faults", admin.token).body["faults"] == []


def test_fault_shapes_per_service(devcloud: TestCloud, admin: Session) -> None:
    _fault(devcloud, admin, service="volume", path="/volumes", status=500)
    vol = admin.call("GET", admin.url("block-storage") + "/volumes")
    assert vol.status == 500 and vol.body["computeFault"]["code"] == 500

    _fault(devcloud, admin, service="placement", status=503, message="placement is down")
    rp = admin.call("GET", admin.url("placement") + "/resource_providers")
    assert rp.status == 503
    assert rp.body["errors"][0]["status"] == 503 and "placement is down" in rp.body["errors"][0]["detail"]

    _fault(devcloud, admin, service="identity", method="POST", path="/auth/tokens", status=503)
    token = call("POST", devcloud.auth_url + "/auth/tokens", body=password_auth_body(devcloud.member))
    assert token.status == 503 and token.body["error"]["code"] == 503
    assert call("POST", devcloud.auth_url + "/auth/tokens", body=password_auth_body(devcloud.member)).status == 201

    _fault(devcloud, admin, service="compute", path="^/v2.1/flavors", status=500)
    flavors = admin.call("GET", admin.url("compute") + "/flavors")
    assert flavors.status == 500 and flavors.body["computeFault"]["code"] == 500


def test_stall(devcloud: TestCloud, admin: Session) -> None:
    _fault(devcloud, admin, service="image", path="^/v2/images$", stall=0.6)
    started = time.monotonic()
    reply = admin.call("GET", admin.url("image") + "/v2/images")
    assert reply.status == 200 and time.monotonic() - started >= 0.6
    started = time.monotonic()
    admin.call("GET", admin.url("image") + "/v2/images")
    assert time.monotonic() - started < 0.6


def test_clear_faults(devcloud: TestCloud, admin: Session) -> None:
    _fault(devcloud, admin, service="image", status=500, count=5)
    assert len(call("GET", devcloud.base_url + "/devcloud/faults", admin.token).body["faults"]) == 1
    assert call("DELETE", devcloud.base_url + "/devcloud/faults", admin.token).status == 204
    assert admin.call("GET", admin.url("image") + "/v2/images").status == 200


def test_bad_fault_specs(devcloud: TestCloud, admin: Session) -> None:
    for spec in (
        {"service": "dns", "status": 500},
        {"service": "image"},
        {"service": "image", "status": 500, "stall": 1},
        {"service": "image", "status": 200},
        {"service": "image", "status": 500, "count": 0},
        {"service": "image", "status": 500, "path": "("},
    ):
        reply = call("POST", devcloud.base_url + "/devcloud/faults", admin.token, spec)
        assert reply.status == 400, spec
        assert reply.body["error"]["code"] == 400
    malformed = call(
        "POST",
        devcloud.base_url + "/devcloud/faults",
        admin.token,
        raw=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status == 400
    assert call("GET", devcloud.base_url + "/devcloud/faults", admin.token).body["faults"] == []


def test_build_failures(devcloud: TestCloud, admin: Session) -> None:
    reply = call(
        "POST", devcloud.base_url + "/devcloud/build-failures", admin.token, {"count": 2, "message": "No valid host"}
    )
    assert reply.status == 201 and reply.body["build_failures"] == {"count": 2, "message": "No valid host"}
    shown = call("GET", devcloud.base_url + "/devcloud/build-failures", admin.token).body
    assert shown["build_failures"]["count"] == 2
    assert call("DELETE", devcloud.base_url + "/devcloud/build-failures", admin.token).status == 204
    assert call("GET", devcloud.base_url + "/devcloud/build-failures", admin.token).body["build_failures"]["count"] == 0


def test_request_counters(devcloud: TestCloud, admin: Session) -> None:
    assert call("POST", devcloud.base_url + "/devcloud/requests/reset", admin.token).status == 200
    for _ in range(3):
        admin.call("GET", admin.url("image") + "/v2/images?limit=1")
    admin.call("GET", admin.url("placement") + "/resource_providers")
    counts = call("GET", devcloud.base_url + "/devcloud/requests", admin.token).body
    assert counts["by_service"].get("image", 0) >= 3 and counts["by_service"].get("placement", 0) >= 1
    assert counts["total"] >= 4
    assert "GET /image/v2/images?limit=1" in counts["recent"]
    assert not any(line.split(" ", 1)[1].startswith("/devcloud") for line in counts["recent"])


def test_latency(devcloud: TestCloud, admin: Session) -> None:
    reply = call("POST", devcloud.base_url + "/devcloud/latency", admin.token, {"seconds": 0.3})
    assert reply.status == 200 and reply.body["seconds"] == 0.3
    started = time.monotonic()
    admin.call("GET", admin.url("image") + "/v2/images?limit=1")
    assert time.monotonic() - started >= 0.3
    assert call("POST", devcloud.base_url + "/devcloud/latency", admin.token, {"seconds": -1}).status == 400
    call("POST", devcloud.base_url + "/devcloud/latency", admin.token, {"seconds": 0})
    assert call("GET", devcloud.base_url + "/devcloud/latency", admin.token).body["seconds"] == 0


def test_latency_per_row(devcloud: TestCloud, admin: Session) -> None:
    """A call answers later by `per_row_seconds` for each row it returns (a whole collection costs what it holds)."""
    flavors = admin.call("GET", admin.url("compute") + "/flavors").body["flavors"]
    assert len(flavors) >= 2
    reply = call("POST", devcloud.base_url + "/devcloud/latency", admin.token, {"seconds": 0, "per_row_seconds": 0.1})
    try:
        assert reply.status == 200 and reply.body == {"seconds": 0, "per_row_seconds": 0.1}
        started = time.monotonic()
        admin.call("GET", admin.url("compute") + "/flavors")
        assert time.monotonic() - started >= 0.1 * len(flavors)
        shown = call("GET", devcloud.base_url + "/devcloud/latency", admin.token).body
        assert shown == {"seconds": 0, "per_row_seconds": 0.1}
    finally:
        call("POST", devcloud.base_url + "/devcloud/latency", admin.token, {"seconds": 0})
    assert call("GET", devcloud.base_url + "/devcloud/latency", admin.token).body["per_row_seconds"] == 0
