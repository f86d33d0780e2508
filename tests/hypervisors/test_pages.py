"""Hypervisor pages through the Django test client against the cloud under test (devcloud or a real cloud)."""

from __future__ import annotations

import re
import time

import pytest

from tests.hypervisors.helpers import forget_usage, placement_totals, summary_from_html

PAGES = ["/admin/hypervisors/", "/admin/hypervisors/capacity/", "/admin/hypervisors/services/"]


@pytest.fixture
def fresh(settings):
    """No Placement cache: each page reads Placement afresh (exact comparisons with Placement's numbers)."""
    settings.STRATUS_PLACEMENT_CACHE_SECONDS = 0
    return settings


def _summary_matches(client, conn) -> tuple[bool, dict, dict]:
    """The page's summary equals Placement's totals. On a shared cloud other tests' servers come and go, and below
    2.88 the page shows Nova's hypervisor statistics, which a real Nova's resource tracker refreshes only now and
    then (Placement at once): compare until both agree, for up to a minute."""
    deadline = time.monotonic() + 60
    while True:
        expected = placement_totals(conn)
        shown = summary_from_html(client.get("/admin/hypervisors/").content.decode())
        if shown == expected or time.monotonic() > deadline:
            return shown == expected, shown, expected
        time.sleep(1)


def test_it_forbids_members_every_page(member_client, stratus) -> None:
    conn = stratus.admin.connect()
    hv = next(iter(conn.compute.hypervisors()))
    svc = next(iter(conn.compute.services(binary="nova-compute")))
    for url in [*PAGES, f"/admin/hypervisors/{hv.id}/"]:
        assert member_client.get(url).status_code == 403, url
        assert member_client.get(url, HTTP_HX_REQUEST="true").status_code == 403, url
    assert member_client.post(f"/admin/hypervisors/services/{svc.id}/disable/", {"reason": "x"}).status_code == 403
    assert member_client.post(f"/admin/hypervisors/services/{svc.id}/enable/").status_code == 403


@pytest.mark.parametrize("pin", [None, "2.87", "2.40"], ids=["latest", "pinned-2.87", "pinned-2.40"])
def test_it_shows_placements_numbers_at_any_microversion(admin_client, stratus, fresh, pin) -> None:
    fresh.STRATUS_COMPUTE_MICROVERSION_MAX = pin
    ok, shown, expected = _summary_matches(admin_client, stratus.admin.connect())
    assert ok, (shown, expected)
    html = admin_client.get("/admin/hypervisors/").content.decode()
    assert f'data-source="{"nova" if pin else "placement"}"' in html
    if pin:
        assert f'data-microversion="{pin}"' in html


def test_the_overview_is_the_same_pinned_to_2_87_and_at_the_latest(admin_client, stratus, fresh) -> None:
    def rows(html: str) -> list[str]:
        body = html[html.index('id="hypervisor-table"') :]
        return re.findall(r'<tr data-hypervisor="[^"]+".*?</tr>', body, re.S)

    for _ in range(5):
        fresh.STRATUS_COMPUTE_MICROVERSION_MAX = None
        latest = admin_client.get("/admin/hypervisors/?sort=-ram").content.decode()
        fresh.STRATUS_COMPUTE_MICROVERSION_MAX = "2.87"
        pinned = admin_client.get("/admin/hypervisors/?sort=-ram").content.decode()
        if summary_from_html(latest) == summary_from_html(pinned) and rows(latest) == rows(pinned):
            break
    assert summary_from_html(latest) == summary_from_html(pinned)
    assert rows(latest) == rows(pinned)
    assert len(rows(latest)) == len(list(stratus.admin.connect().compute.hypervisors()))


def test_it_filters_by_zone_and_state_and_sorts(admin_client, stratus) -> None:
    conn = stratus.admin.connect()
    zones = {s.host: s.availability_zone for s in conn.compute.services(binary="nova-compute")}
    zone = sorted(set(zones.values()))[0]
    html = admin_client.get(f"/admin/hypervisors/?zone={zone}").content.decode()
    shown = re.findall(r'<tr data-hypervisor="([^"]+)"', html)
    assert shown and all(zones.get(name, zone) == zone for name in shown)
    assert len(shown) == sum(1 for z in zones.values() if z == zone)
    html = admin_client.get("/admin/hypervisors/?sort=-name").content.decode()
    names = re.findall(r'<tr data-hypervisor="([^"]+)"', html)
    assert names == sorted(names, reverse=True)
    down = admin_client.get("/admin/hypervisors/?state=down", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="hypervisor-table"' in down and "<html" not in down


@pytest.mark.parametrize("pin", [None, "2.87", "2.40"], ids=["latest", "pinned-2.87", "pinned-2.40"])
def test_the_detail_shows_provider_servers_and_service(admin_client, stratus, settings, pin) -> None:
    settings.STRATUS_COMPUTE_MICROVERSION_MAX = pin
    conn = stratus.admin.connect()
    hv = sorted(conn.compute.hypervisors(), key=lambda h: h.name)[0]
    listing = admin_client.get("/admin/hypervisors/").content.decode()
    link = re.search(rf'<a href="(/admin/hypervisors/[^"]+/)">{re.escape(hv.name)}</a>', listing).group(1)
    html = admin_client.get(link).content.decode()
    assert hv.name in html
    assert 'data-rc="VCPU"' in html and 'data-rc="MEMORY_MB"' in html
    for trait in conn.placement.get(f"/resource_providers/{hv.id}/traits", microversion="1.6").json()["traits"]:
        assert trait in html
    assert "nova-compute" in html
    assert admin_client.get("/admin/hypervisors/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_services_page_lists_every_compute_service(admin_client, stratus) -> None:
    html = admin_client.get("/admin/hypervisors/services/").content.decode()
    for svc in stratus.admin.connect().compute.services():
        assert f'data-service="{svc.id}"' in html


@pytest.mark.devcloud_only
def test_a_failing_placement_is_named_on_the_page(admin_client, devcloud, fresh) -> None:
    hv = next(iter(devcloud.admin.connect().compute.hypervisors()))
    devcloud.control("faults", {"service": "placement", "status": 503, "count": 100})
    try:
        html = admin_client.get("/admin/hypervisors/").content.decode()
        assert "data-placement-error" in html and "Placement is not available." in html
        # The 503 answers the page's call, or already openstacksdk's first contact (version discovery) when this
        # process has not talked to Placement yet: either way the page names Placement and what happened.
        assert (
            "The Placement service is not working right now (HTTP 503)." in html
            or "The Placement service cannot be reached." in html
        ), html[:2000]
        assert hv.name in html  # the hypervisors themselves still come from Nova
        for url in ("/admin/hypervisors/capacity/", f"/admin/hypervisors/{hv.id}/"):
            response = admin_client.get(url)
            assert response.status_code == 200 and "Placement is not available." in response.content.decode()
        fresh.STRATUS_COMPUTE_MICROVERSION_MAX = "2.87"
        html = admin_client.get("/admin/hypervisors/").content.decode()
        assert "data-placement-error" in html
    finally:
        devcloud.control("faults", method="DELETE")


def test_cloud_calls_per_page_are_few(admin_client, stratus, fresh, cloud_calls) -> None:
    """With the cache off the page reads usage itself: 2 Nova calls (the hypervisors, read at 2.87 at most, carry
    their server counts), and per hypervisor 2 Placement calls from 2.88 (1 before); the capacity page none when
    cached."""
    n = len(list(stratus.admin.connect().compute.hypervisors()))
    admin_client.get("/admin/hypervisors/")  # version discovery is cached per process
    for pin, per_host, nova in ((None, 2, 2), ("2.87", 1, 2)):
        fresh.STRATUS_COMPUTE_MICROVERSION_MAX = pin
        fresh.STRATUS_PLACEMENT_CACHE_SECONDS = 0
        with cloud_calls.recording() as calls:
            assert admin_client.get("/admin/hypervisors/").status_code == 200
        assert sum(c.startswith("GET compute ") for c in calls) == nova, calls
        assert sum(c.startswith("GET placement ") for c in calls) == per_host * n, calls
        assert len(calls) == nova + per_host * n, calls
    fresh.STRATUS_PLACEMENT_CACHE_SECONDS = 600  # a slow machine cannot see it expire between the two pages
    fresh.STRATUS_COMPUTE_MICROVERSION_MAX = None
    admin_client.get("/admin/hypervisors/capacity/")
    with cloud_calls.recording() as calls:
        admin_client.get("/admin/hypervisors/capacity/")
    assert len(calls) == 2 and all(c.startswith("GET compute ") for c in calls), calls


def _refresh_url(html: str) -> str:
    found = re.search(r'id="hypervisor-body" hx-get="([^"]+)" hx-trigger="load"', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_the_list_does_not_wait_for_placement(admin_client, stratus, settings, cloud_calls) -> None:
    settings.STRATUS_PLACEMENT_CACHE_SECONDS = 600
    conn = stratus.admin.connect()
    n = len(list(conn.compute.hypervisors()))
    admin_client.get("/admin/hypervisors/")  # version discovery
    forget_usage(admin_client.session, conn)

    # Nothing cached: the first paint is Nova's hypervisors, the usage says it is coming, and is asked for at once.
    with cloud_calls.recording() as calls:
        html = admin_client.get("/admin/hypervisors/?sort=-name").content.decode()
    assert [c.split("?")[0] for c in calls] == ["GET compute /os-hypervisors/detail"], calls
    assert not any("with_servers" in c for c in calls), calls
    assert "Updating from Placement…" in html and 'aria-busy="true"' in html
    url = _refresh_url(html)
    assert "usage=fresh" in url and "sort=-name" in url, url

    # The `load` request: the hypervisors (with their server counts), the compute services (zones), and Placement
    # per hypervisor; no further refresh.
    with cloud_calls.recording() as calls:
        body = admin_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="hypervisor-body"') and not _refresh_url(body)
    assert sum(c.startswith("GET placement ") for c in calls) == 2 * n, calls
    assert not any("with_servers" in c for c in calls), calls  # no list of every server of the cloud
    assert sum(c.startswith("GET compute /os-services") for c in calls) == 1, calls
    assert summary_from_html(body)  # the usage is there
    counts = re.findall(r'<td class="right servers">(\d+)</td>', body)
    assert len(counts) == n, body[:3000]
    assert "?sort=" in body and "usage=fresh&amp;sort" not in body  # the sort links read the cache again

    # Now the first paint has it from the cache, says how old it is, and asks for nothing more.
    with cloud_calls.recording() as calls:
        html = admin_client.get("/admin/hypervisors/").content.decode()
    assert [c.split("?")[0] for c in calls] == ["GET compute /os-hypervisors/detail"], calls
    assert summary_from_html(html) and "data-usage-age=" in html and not _refresh_url(html)
    zones = {s.host: s.availability_zone for s in conn.compute.services(binary="nova-compute")}
    for name, zone in re.findall(
        r'<tr data-hypervisor="([^"]+)" data-id="[^"]+">.*?</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', html, re.S
    ):
        assert zones.get(name, zone) == zone, (name, zone, zones)  # the zones, from the cache
    assert sorted(re.findall(r'<td class="right servers">(\d+)</td>', html)) == sorted(counts)  # from the cache

    # Older than STRATUS_PLACEMENT_CACHE_SECONDS: still shown at once, with its age, and refreshed right after.
    settings.STRATUS_PLACEMENT_CACHE_SECONDS = 1
    time.sleep(1.1)
    html = admin_client.get("/admin/hypervisors/").content.decode()
    assert summary_from_html(html) and re.search(r'data-usage-age="[1-9]\d*"', html)
    assert _refresh_url(html)


def test_disable_refuses_a_long_reason_and_other_binaries(admin_client, stratus) -> None:
    conn = stratus.admin.connect()
    compute = next(iter(conn.compute.services(binary="nova-compute")))
    scheduler = next(iter(conn.compute.services(binary="nova-scheduler")))
    url = f"/admin/hypervisors/services/{compute.id}/disable/"
    response = admin_client.post(url, {"reason": "x" * 256}, follow=True)
    assert "The reason can be at most 255 characters." in response.content.decode()
    response = admin_client.post(f"/admin/hypervisors/services/{scheduler.id}/disable/", {"reason": "x"}, follow=True)
    assert "Only nova-compute services can be disabled." in response.content.decode()
    assert conn.compute.find_service(compute.id, ignore_missing=False).status == "enabled"
    assert admin_client.get(f"/admin/hypervisors/services/{compute.id}/disable/").status_code == 405
    partial = admin_client.get("/admin/hypervisors/services/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="service-table"' in partial and "<html" not in partial
