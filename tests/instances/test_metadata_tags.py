"""An instance's metadata and tags through the Django client with a real worker, against the cloud under test: a key
added, changed and removed, a tag added and removed, each an operation on Nova's per-key endpoints with its
`openstack` command on Activity; another person's change to another key kept; every bad input refused next to its
field with nothing changed in Nova (checked through openstacksdk); Nova's own refusal (the metadata_items quota)
failing the operation in its words; Stratus' own bookkeeping tag (`op-…`) neither shown nor removable; the list's tag
chips and its `tags` / `tags-any` filters."""

from __future__ import annotations

import re
import uuid

import pytest

from apps.operations.models import Operation, State
from tests.instances.conftest import boot
from tests.operations.conftest import wait_op
from tests.pagehelpers import field_errors, last_op, page_text

pytestmark = [pytest.mark.worker]


def _section(page: str, section: str) -> str:
    match = re.search(rf'<section class="card" id="{section}".*?</section>', page, re.S)
    assert match, f"no {section} section"
    return match.group(0)


def _tags(conn, server_id: str) -> list[str]:
    return sorted(conn.compute.get(f"/servers/{server_id}/tags", microversion="2.26").json()["tags"])


def _add_tag(conn, server_id: str, tag: str) -> None:
    assert conn.compute.put(f"/servers/{server_id}/tags/{tag}", microversion="2.26").status_code in (201, 204)


def _succeeded(kind: str) -> Operation:
    op = wait_op(last_op(kind).id)
    assert op.state == State.SUCCEEDED, (op.message, op.steps)
    return op


def test_metadata_is_added_changed_and_removed_key_by_key(worker, member_client, demo_conn) -> None:
    conn = demo_conn
    server = boot(conn, f"t-meta-{uuid.uuid4().hex[:6]}")
    url = f"/instances/{server.id}/"
    assert 'data-role="no-metadata"' in _section(page_text(member_client.get(url)), "metadata")

    response = member_client.post(f"{url}metadata/set/", {"key": "role one", "value": "web"})
    assert response.status_code == 302 and response["Location"] == url
    op = _succeeded("server.set_metadata")
    assert conn.compute.get_server_metadata(server.id).metadata == {"role one": "web"}
    assert f"openstack server set --property 'role one=web' {server.id}" in page_text(
        member_client.get(f"/activity/{op.id}/")
    )

    # Another person sets another key meanwhile: changing ours leaves theirs (Nova's per-key PUT, not a replace).
    conn.compute.set_server_metadata(server.id, owner="ops")
    member_client.post(f"{url}metadata/set/", {"key": "role one", "value": "db " + "v" * 252})
    _succeeded("server.set_metadata")
    assert conn.compute.get_server_metadata(server.id).metadata == {"role one": "db " + "v" * 252, "owner": "ops"}
    section = _section(page_text(member_client.get(url)), "metadata")
    assert 'data-key="role one"' in section and 'data-key="owner"' in section
    assert f'value="db {"v" * 252}"' in section

    response = member_client.post(f"{url}metadata/remove/", {"key": "role one"})
    assert response.status_code == 302
    op = _succeeded("server.delete_metadata")
    assert conn.compute.get_server_metadata(server.id).metadata == {"owner": "ops"}
    assert f"openstack server unset --property 'role one' {server.id}" in page_text(
        member_client.get(f"/activity/{op.id}/")
    )
    section = _section(page_text(member_client.get(url)), "metadata")
    assert 'data-key="role one"' not in section and 'data-key="owner"' in section
    # a key the instance does not have is not removed
    assert member_client.post(f"{url}metadata/remove/", {"key": "nope"}).status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "", "value": "x"}, "key", "Give the metadata item a key."),
        ({"key": "   ", "value": "x"}, "key", "Give the metadata item a key."),
        ({"key": "k" * 256, "value": "x"}, "key", "A key is at most 255 characters (this one has 256)."),
        ({"key": "a/b", "value": "x"}, "key", "Nova takes keys of letters, digits, spaces and - _ : . only."),
        ({"key": "k", "value": "v" * 256}, "value", "A value is at most 255 characters (this one has 256)."),
    ],
)
def test_bad_metadata_is_refused_next_to_the_field(member_client, demo_conn, data, field, message) -> None:
    conn = demo_conn
    server = boot(conn, f"t-meta-bad-{uuid.uuid4().hex[:6]}")
    conn.compute.set_server_metadata(server.id, keep="1")
    before = Operation.objects.count()
    refused = member_client.post(f"/instances/{server.id}/metadata/set/", data)
    assert refused.status_code == 400
    assert field_errors(page_text(refused)) == {field: message}
    assert Operation.objects.count() == before
    assert conn.compute.get_server_metadata(server.id).metadata == {"keep": "1"}


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "Write the tag to add."),
        ("t" * 61, "A tag is at most 60 characters (this one has 61)."),
        ("a/b", "A tag cannot hold / or , (Nova refuses them)."),
        ("a,b", "A tag cannot hold / or , (Nova refuses them)."),
        ("op-0d5c1a2e-8f4b-4c3d-9e6a-7b1f2c3d4e5f", "Tags of this form are Stratus' own record of a launch."),
    ],
)
def test_bad_tags_are_refused_next_to_the_field(member_client, demo_conn, tag, message) -> None:
    conn = demo_conn
    server = boot(conn, f"t-tag-bad-{uuid.uuid4().hex[:6]}")
    _add_tag(conn, server.id, "keep")
    before = Operation.objects.count()
    refused = member_client.post(f"/instances/{server.id}/tags/add/", {"tag": tag})
    assert refused.status_code == 400
    assert field_errors(page_text(refused)) == {"tag": message}
    assert Operation.objects.count() == before
    assert _tags(conn, server.id) == ["keep"]


def test_a_51st_tag_is_refused(member_client, demo_conn) -> None:
    conn = demo_conn
    server = boot(conn, f"t-tag-full-{uuid.uuid4().hex[:6]}")
    full = [f"n{i:02}" for i in range(50)]
    conn.compute.put(f"/servers/{server.id}/tags", json={"tags": full}, microversion="2.26")
    refused = member_client.post(f"/instances/{server.id}/tags/add/", {"tag": "one-more"})
    assert refused.status_code == 400
    assert field_errors(page_text(refused)) == {"tag": "An instance has at most 50 tags; remove one first."}
    assert _tags(conn, server.id) == full


def test_tags_are_added_and_removed_and_the_op_tag_stays(worker, member_client, demo_conn) -> None:
    conn = demo_conn
    server = boot(conn, f"t-tag-{uuid.uuid4().hex[:6]}")
    own = f"op-{uuid.uuid4()}"  # as a launch by Stratus leaves it
    _add_tag(conn, server.id, own)
    url = f"/instances/{server.id}/"
    section = _section(page_text(member_client.get(url)), "tags")
    assert own not in section and 'data-role="no-tags"' in section

    tag = f"web {uuid.uuid4().hex[:4]}?"  # a space and a '?': quoted in Nova's URL
    response = member_client.post(f"{url}tags/add/", {"tag": tag})
    assert response.status_code == 302 and response["Location"] == url
    op = _succeeded("server.add_tag")
    assert _tags(conn, server.id) == sorted([own, tag])
    assert f"openstack --os-compute-api-version 2.26 server set --tag '{tag}' {server.id}" in page_text(
        member_client.get(f"/activity/{op.id}/")
    )
    section = _section(page_text(member_client.get(url)), "tags")
    assert f'data-tag="{tag}"' in section and own not in section

    # Stratus' own tag cannot be removed through Stratus, even by a crafted POST.
    assert member_client.post(f"{url}tags/remove/", {"tag": own}).status_code == 404
    response = member_client.post(f"{url}tags/remove/", {"tag": tag})
    assert response.status_code == 302
    op = _succeeded("server.remove_tag")
    assert _tags(conn, server.id) == [own]
    assert f"openstack --os-compute-api-version 2.26 server unset --tag '{tag}' {server.id}" in page_text(
        member_client.get(f"/activity/{op.id}/")
    )


def test_the_metadata_quota_fails_the_operation_in_novas_words(worker, member_client, demo_conn) -> None:
    conn = demo_conn
    server = boot(conn, f"t-meta-quota-{uuid.uuid4().hex[:6]}")
    limit = conn.compute.get_limits().absolute.server_meta
    full = {f"k{i}": "x" for i in range(limit)}
    conn.compute.set_server_metadata(server.id, **full)
    response = member_client.post(f"/instances/{server.id}/metadata/set/", {"key": "one-more", "value": "x"})
    assert response.status_code == 302
    op = wait_op(last_op("server.set_metadata").id)
    assert op.state == State.FAILED
    assert op.display_message == f"Compute (Nova): Maximum number of metadata items exceeds {limit}", op.display_message
    assert conn.compute.get_server_metadata(server.id).metadata == full


def test_the_list_shows_tag_chips_and_filters_by_tags(member_client, demo_conn) -> None:
    conn = demo_conn
    run = uuid.uuid4().hex[:6]
    web, db = f"web-{run}", f"db-{run}"
    one = boot(conn, f"t-list-a-{run}")
    two = boot(conn, f"t-list-b-{run}")
    own = f"op-{uuid.uuid4()}"
    for tag in (web, db, own):
        _add_tag(conn, one.id, tag)
    _add_tag(conn, two.id, web)
    # tags set outside Stratus: its suggestions (short-cached per project) are read again from Nova
    from apps.instances.selectors import forget_tag_suggestions

    forget_tag_suggestions(conn.current_project_id)

    page = page_text(member_client.get("/instances/"))
    row = re.search(rf'<tr id="server-{one.id}".*?</tr>', page, re.S)
    assert row and f'href="?tags={web}"' in row.group(0) and f'data-tag="{db}"' in row.group(0)
    assert own not in page

    def listed(query: str) -> set[str]:
        shown = page_text(member_client.get("/instances/?" + query))
        return set(re.findall(r'<tr id="server-([0-9a-f-]+)"', shown))

    assert listed(f"tags={web}") == {one.id, two.id}
    assert listed(f"tags={web},{db}") == {one.id}
    assert listed(f"tags-any={db},nope-{run}") == {one.id}
    assert listed(f"tags=nope-{run}") == set()
    shown = page_text(member_client.get(f"/instances/?tags={web},{db}"))
    assert f"openstack --os-compute-api-version 2.26 server list --long --tags {web} --tags {db}" in shown
    assert f'id="tags-filter" name="tags" value="{web},{db}"' in shown

    panel = page_text(member_client.get("/instances/filters/"))
    suggestions = re.findall(r'<option value="([^"]*)"></option>', panel)
    assert web in suggestions and db in suggestions and own not in suggestions
