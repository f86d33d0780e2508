"""The overview page: quota usage from Nova's limits and instances by status, for what is really in the cloud."""

from __future__ import annotations

import re
from collections import Counter

import openstack
import pytest

from apps.cloud.states import server_status_label
from apps.overview.selectors import COUNTED, STATUS_CAP


@pytest.fixture
def nova(stratus):
    return openstack.connect(cloud=stratus.member.name)


def _counts(client, html: str) -> str:
    """What the overview's `load` request brings (the key pair card and the instances by state), as htmx asks."""
    url = re.search(r'hx-get="(/overview/counts/[^"]*)" hx-trigger="load"', html)
    assert url, html[:3000]
    response = client.get(url.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_quota_usage_and_instances_by_status(member_client, nova):
    for _ in range(5):  # on a shared cloud other tests' servers come and go: compare a quiet moment
        before = nova.compute.get_limits().absolute
        html = member_client.get("/overview/").content.decode()
        counts = _counts(member_client, html)
        servers = list(nova.compute.servers())
        absolute = nova.compute.get_limits().absolute
        if before.instances_used == absolute.instances_used == len(servers):
            break
    card = re.search(r'data-quota="instances".*?<strong class="used">(\d+)</strong>.*?of (\d+)', html, re.S)
    assert card, html[:3000]
    assert int(card.group(1)) == absolute.instances_used
    assert int(card.group(2)) == absolute.instances
    assert 'id="status-card"' in html and "Counting…" in html  # the first paint has not counted yet
    if servers:
        by_status = Counter(s.status for s in servers)
        shown = dict(re.findall(r'<strong data-status="([A-Z_a-z]+)">(\d+)</strong>', counts))
        other = 0
        for status, n in by_status.items():
            if status in COUNTED:
                # the translated label, Nova's code in the title, and the count
                label = server_status_label(status)
                assert f'<span class="badge {status.lower()}" title="{status}">{label}</span>' in counts
                assert int(shown[status]) == n, (status, shown)
            else:
                other += n
        assert int(shown.get("other", 0)) == other, shown
    else:
        assert "No instances yet." in counts


def test_the_first_paint_asks_nova_for_its_limits_only(member_client, cloud_calls):
    member_client.get("/overview/")  # discovery and the name caches out of the way
    with cloud_calls.recording() as calls:
        html = member_client.get("/overview/").content.decode()
    assert calls == ["GET compute /limits"], calls
    with cloud_calls.recording() as calls:
        _counts(member_client, html)
    # the key pairs, then one brief list per state counted, none asking for more than the cap (+1) rows
    assert calls[0] == "GET compute /os-keypairs", calls
    assert sorted(calls[1:]) == sorted(
        f"GET compute /servers?limit={STATUS_CAP + 1}&status={status}" for status in COUNTED
    ), calls
    assert all(cloud_calls.threads[c].startswith("stratus-cloud") for c in calls), "made one after the other"


def test_a_state_with_more_instances_than_the_cap_says_so(member_client, nova, monkeypatch):
    from apps.overview import selectors

    monkeypatch.setattr(selectors, "STATUS_CAP", 0)  # any server at all is more than the cap
    counts = _counts(member_client, member_client.get("/overview/").content.decode())
    if not list(nova.compute.servers(limit=1)):
        assert "No instances yet." in counts
        return
    assert re.search(r'<strong data-status="[A-Z_]+">more than 0</strong>', counts), counts
    assert "Each state is counted up to 0 instances" in counts
    assert 'data-status="other"' not in counts  # what is left over cannot be known when a state is capped


def test_it_counts_key_pairs(member_client, nova):
    count = len(list(nova.compute.keypairs()))
    html = member_client.get("/overview/").content.decode()
    assert re.search(r'data-quota="key_pairs" aria-busy="true"', html), html  # counted after the first paint
    card = re.search(
        r'data-quota="key_pairs" hx-swap-oob="true".*?<strong class="used">(\d+)</strong>',
        _counts(member_client, html),
        re.S,
    )
    assert card and int(card.group(1)) == count


def test_counts_outside_htmx_go_back_to_the_overview(member_client):
    response = member_client.get("/overview/counts/")
    assert response.status_code == 302 and response["Location"] == "/overview/"


def test_it_is_in_vietnamese(member_client):
    member_client.post("/i18n/setlang/", {"language": "vi", "next": "/overview/"})
    html = member_client.get("/overview/").content.decode()
    assert "Mức dùng hạn ngạch" in html and "Máy ảo theo trạng thái" in html
    assert "Đang đếm…" in html  # the placeholders, until the counts come
    assert "Máy ảo theo trạng thái" in _counts(member_client, html)


def test_recent_activity_lists_the_projects_latest_operations(member_client):
    from apps.accounts.session import read
    from apps.operations.models import Operation, State

    creds = read(member_client.session)
    fields = {"user_id": creds.user_id, "user_name": creds.user_name, "project_id": creds.project_id}
    Operation.objects.create(
        **fields,
        project_name=creds.project_name,
        kind="server.stop",
        target_type="server",
        target_id="s-1",
        target_name="web-recent",
        state=State.FAILED,
    )
    other = {**fields, "project_id": "another-project"}
    Operation.objects.create(
        **other,
        project_name="other",
        kind="server.stop",
        target_type="server",
        target_id="s-2",
        target_name="not-mine",
        state=State.SUCCEEDED,
    )
    html = member_client.get("/overview/").content.decode()
    recent = re.search(r'<ul class="recent">(.*?)</ul>', html, re.S)
    assert recent, "no recent activity list"
    assert "Stop web-recent" in recent.group(1) and "Failed" in recent.group(1)
    assert "not-mine" not in html  # another project's operations stay there
