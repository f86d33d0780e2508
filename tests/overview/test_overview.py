"""The overview page: quota usage from Nova's limits and instances by status, for what is really in the cloud."""

from __future__ import annotations

import re

import openstack
import pytest

from apps.cloud.states import server_status_label


@pytest.fixture
def nova(stratus):
    return openstack.connect(cloud=stratus.member.name)


def test_it_shows_quota_usage_and_instances_by_status(member_client, nova):
    for _ in range(5):  # on a shared cloud other tests' servers come and go: compare a quiet moment
        before = nova.compute.get_limits().absolute
        html = member_client.get("/overview/").content.decode()
        absolute = nova.compute.get_limits().absolute
        if before.instances_used == absolute.instances_used:
            break
    card = re.search(r'data-quota="instances".*?<strong class="used">(\d+)</strong>.*?of (\d+)', html, re.S)
    assert card, html[:3000]
    assert int(card.group(1)) == absolute.instances_used
    assert int(card.group(2)) == absolute.instances
    servers = list(nova.compute.servers())
    if servers:
        for status in {s.status for s in servers}:
            # the translated label, Nova's code in the title
            label = server_status_label(status)
            assert f'<span class="badge {status.lower()}" title="{status}">{label}</span>' in html
    else:
        assert "No instances yet." in html


def test_it_counts_key_pairs(member_client, nova):
    count = len(list(nova.compute.keypairs()))
    html = member_client.get("/overview/").content.decode()
    card = re.search(r'data-quota="key_pairs".*?<strong class="used">(\d+)</strong>', html, re.S)
    assert card and int(card.group(1)) == count


def test_it_is_in_vietnamese(member_client):
    member_client.post("/i18n/setlang/", {"language": "vi", "next": "/overview/"})
    html = member_client.get("/overview/").content.decode()
    assert "Mức dùng hạn ngạch" in html and "Máy ảo theo trạng thái" in html


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
