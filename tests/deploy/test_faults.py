"""Faults: the cloud stopped, answering 500/503, or stalling → every page answers with a clear message naming
the service, within the configured timeout (never a hang, never a 500); no worker → operations wait as pending
and the page says so. (Redis down is in test_redis_down.py: it needs a web process of its own.)
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.cloudharness import start_devcloud
from tests.conftest import sign_in_client
from tests.security.helpers import is_login_redirect, routes

SERVICE_TEXT = {
    "compute": "Compute (Nova)",
    "image": "Image (Glance)",
    "identity": "Identity (Keystone)",
    "placement": "Placement",
    "volume": "Block Storage (Cinder)",
    "network": "Networking (Neutron)",
}


def list_pages(access: tuple[str, ...] = ("member",)) -> list[str]:
    """The pages without parameters that a person opens from the menu."""
    return [r.url() for r in routes() if r.access in access and not r.params]


def assert_clear_failure(client: Client, url: str, service_texts: list[str], why: str | tuple[str, ...]) -> bool:
    """The page did not break: no 500, no stack trace; if it could not load, it says which service and why.
    Returns whether the page reported the failure."""
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(url, **headers)
        html = response.content.decode(errors="replace")
        assert response.status_code != 500, f"GET {url} {headers} -> 500"
        assert "Traceback" not in html
        assert not is_login_redirect(response), f"GET {url}: a cloud outage signed the user out"
        if response.status_code >= 502 or (headers and response.get("HX-Retarget") == "#toasts"):
            assert any(text in html for text in service_texts), f"GET {url} does not name the service: {html[:400]}"
            whys = (why,) if isinstance(why, str) else why
            assert any(w in html for w in whys), f"GET {url} does not say what happened ({why!r}): {html[:600]}"
            reported = True
        else:
            reported = False
    return reported


@pytest.mark.devcloud_only
@pytest.mark.parametrize("status", [500, 503])
def test_a_failing_compute_service_is_named_on_every_page(member_client, admin_client, devcloud, status):
    devcloud.control("faults", {"service": "compute", "status": status, "count": 100000})
    try:
        reported = [
            url
            for client, access in ((member_client, ("member",)), (admin_client, ("admin",)))
            for url in list_pages(access)
            if assert_clear_failure(client, url, [SERVICE_TEXT["compute"]], f"is not working right now (HTTP {status})")
        ]
    finally:
        devcloud.control("faults", method="DELETE")
    assert "/instances/" in reported or "/overview/" in reported, reported


@pytest.mark.devcloud_only
def test_a_failing_image_service_is_named(member_client, devcloud):
    devcloud.control("faults", {"service": "image", "status": 503, "count": 100000})
    try:
        for url in list_pages():
            assert_clear_failure(
                member_client, url, [SERVICE_TEXT["image"]], ("is not working right now", "cannot be reached")
            )
    finally:
        devcloud.control("faults", method="DELETE")


@pytest.mark.devcloud_only
def test_a_stalled_cloud_is_reported_within_the_timeout(stratus, db, devcloud, settings):
    settings.STRATUS_CLOUD_TIMEOUT = 0.5  # before the client signs in: its connections take this timeout
    client = sign_in_client(Client(), stratus.member)
    devcloud.control("faults", {"service": "compute", "stall": 5, "count": 100000})
    try:
        reported = [
            url
            for url in ("/overview/", "/instances/")
            if url in list_pages()
            and assert_clear_failure(client, url, [SERVICE_TEXT["compute"]], "did not answer in time")
        ]
    finally:
        devcloud.control("faults", method="DELETE")
    assert reported


def test_a_stopped_cloud_is_reported(db, settings, tmp_path):
    other = start_devcloud(tmp_path / "stopped-cloud")
    try:
        settings.OS_AUTH_URL = other.auth_url
        client = sign_in_client(Client(), other.member)
    finally:
        other.stop()
    reported = [
        url
        for url in list_pages()
        if assert_clear_failure(client, url, list(SERVICE_TEXT.values()), "cannot be reached")
    ]
    assert reported
    # signing in while the cloud is down says so, next to the form
    response = Client(REMOTE_ADDR="192.0.2.9").post(
        "/auth/login/", {"method": "password", "username": "demo", "password": "demo", "domain": "Default"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Cannot sign in" in html and "cannot be reached" in html


@pytest.mark.django_db(transaction=True)
def test_without_a_worker_operations_wait_as_pending_and_the_page_says_so(member_client, stratus):
    from apps.operations.models import Operation
    from tests.security.helpers import Objects, boot_server

    objects = Objects(conn=stratus.member.connect())
    try:
        server = boot_server(objects, "no-worker-probe")
        response = member_client.post(f"/instances/{server.id}/stop/", follow=True)
        assert response.status_code == 200
        op = Operation.objects.get(target_id=server.id, kind="server.stop")
        assert op.state == "pending"
        page = member_client.get(f"/activity/{op.id}/").content.decode()
        assert "Waiting for a worker to pick this up." in page
        assert "Waiting for a worker" in member_client.get("/activity/").content.decode()
        assert objects.conn.compute.get_server(server.id).status == "ACTIVE"  # nothing happened behind its back
    finally:
        objects.cleanup()


@pytest.mark.devcloud_only
def test_a_failing_compute_service_is_named_on_every_detail_page(member_client, stratus, devcloud):
    """The pages that show one object (an instance, a snapshot, a key pair, a flavor...), with real ids."""
    from tests.security.helpers import make_objects, routes

    objects = make_objects(stratus.member, "fault")
    objects.ids["flavor"] = objects.conn.compute.find_flavor(stratus.small_flavor, ignore_missing=False).id
    # POST-only views answer 405 to a GET; assert_clear_failure only requires "no 500, no trace" of them.
    urls = sorted({r.url(objects.ids) for r in routes() if r.access == "member" and r.params})
    devcloud.control("faults", {"service": "compute", "status": 503, "count": 100000})
    try:
        reported = [
            url
            for url in urls
            if assert_clear_failure(
                member_client, url, [SERVICE_TEXT["compute"]], "is not working right now (HTTP 503)"
            )
        ]
    finally:
        devcloud.control("faults", method="DELETE")
        objects.cleanup()
    server_page = f"/instances/{objects.ids['server']}/"
    assert server_page in reported, reported
