"""Server metadata and tags through the real `openstack` CLI (`server set --property/--tag`, `server show`,
`server list --tags`, `server unset`), and Nova's per-key endpoints and refusals underneath: the tag count and
format, the metadata key pattern and value length, the metadata_items quota (403), and the states that forbid a
write (409)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tests.devcloud import Session, cli, cli_json, login, settled

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

V226 = {"OpenStack-API-Version": "compute 2.26"}


def _name(prefix: str) -> str:
    return f"t-meta-{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


def _boot(cloud: TestCloud, demo: Session, name: str) -> str:
    created = cli_json(cloud, cloud.member.name, "server", "create", "--image", cloud.image_name, "--flavor",
                       cloud.small_flavor, "--nic", "none", name)  # fmt: skip
    settled(demo, created["id"], "ACTIVE")
    return str(created["id"])


def test_properties_and_tags_set_shown_listed_and_unset(cloud: TestCloud, demo: Session) -> None:
    member = cloud.member.name
    tagged, other = _name("a"), _name("b")
    tag = f"t1-{uuid.uuid4().hex[:6]}"
    sid = _boot(cloud, demo, tagged)
    oid = _boot(cloud, demo, other)
    try:
        cli(cloud, member, "--os-compute-api-version", "2.26", "server", "set", "--property", "a=b", "--tag", tag,
            tagged)  # fmt: skip
        shown = cli_json(cloud, member, "--os-compute-api-version", "2.26", "server", "show", tagged)
        assert shown["properties"] == {"a": "b"}
        assert shown["tags"] == [tag]
        listed = cli_json(cloud, member, "--os-compute-api-version", "2.26", "server", "list", "--tags", tag)
        assert [s["ID"] for s in listed] == [sid]
        # --not-tags: every other server of the project, this one excepted
        others = cli_json(cloud, member, "--os-compute-api-version", "2.26", "server", "list", "--not-tags", tag)
        assert oid in [s["ID"] for s in others] and sid not in [s["ID"] for s in others]

        cli(cloud, member, "--os-compute-api-version", "2.26", "server", "unset", "--property", "a", "--tag", tag,
            tagged)  # fmt: skip
        shown = cli_json(cloud, member, "--os-compute-api-version", "2.26", "server", "show", tagged)
        assert not shown["properties"] and shown["tags"] == []
        assert cli_json(cloud, member, "--os-compute-api-version", "2.26", "server", "list", "--tags", tag) == []
    finally:
        cli(cloud, member, "server", "delete", "--wait", tagged, other, check=False)


def test_per_key_endpoints_answer_as_nova(cloud: TestCloud, demo: Session) -> None:
    name = _name("api")
    sid = _boot(cloud, demo, name)
    base = f"{demo.url('compute')}/servers/{sid}"
    try:
        # tags: 201 with the Location, 204 when present, any-of filter, 404 naming the server
        put = demo.call("PUT", f"{base}/tags/{quote('x y', safe='')}", headers=V226)
        assert put.status == 201 and put.header("Location") or "".endswith(f"/servers/{sid}/tags/x%20y")
        assert demo.call("PUT", f"{base}/tags/{quote('x y', safe='')}", headers=V226).status == 204
        assert demo.call("GET", f"{base}/tags", headers=V226).body == {"tags": ["x y"]}
        listed = demo.call("GET", f"{demo.url('compute')}/servers?tags-any=nope,{quote('x y')}", headers=V226)
        assert [s["id"] for s in listed.body["servers"]] == [sid]
        too_long = demo.call("PUT", f"{base}/tags/{'t' * 61}", headers=V226)
        assert too_long.status == 400 and "It must be a non empty string" in too_long.raw.decode()
        comma = demo.call("PUT", f"{base}/tags/a,b", headers=V226)
        assert comma.status == 400 and "without characters '/' and ','" in comma.raw.decode()
        missing = demo.call("DELETE", f"{base}/tags/nope", headers=V226)
        assert missing.status == 404 and f"Instance {sid} has no tag 'nope'" in missing.raw.decode()
        assert demo.call("PUT", f"{base}/tags/x", headers={"OpenStack-API-Version": "compute 2.25"}).status == 404
        full = demo.call("PUT", f"{base}/tags", {"tags": [f"n{i}" for i in range(50)]}, headers=V226)
        assert full.status == 200
        over = demo.call("PUT", f"{base}/tags/n0", headers=V226)  # counted before it is looked for, as Nova does
        assert over.status == 400 and "exceeded the per-server limit 50" in over.raw.decode()

        # metadata: the one key, the key pattern, 255-character values, the quota
        item = demo.call("PUT", f"{base}/metadata/{quote('role one')}", {"meta": {"role one": "v" * 255}})
        assert item.status == 200 and item.body == {"meta": {"role one": "v" * 255}}
        long_value = demo.call("PUT", f"{base}/metadata/k", {"meta": {"k": "v" * 256}})
        assert long_value.status == 400 and "is too long" in long_value.raw.decode()
        bad_key = demo.call("PUT", f"{base}/metadata/a%2Fb", {"meta": {"a/b": "x"}})
        assert bad_key.status in (400, 404)
        slash = demo.call("POST", f"{base}/metadata", {"metadata": {"a/b": "x"}})
        assert slash.status == 400 and "does not match any of the regexes" in slash.raw.decode()
        mismatch = demo.call("PUT", f"{base}/metadata/k", {"meta": {"j": "x"}})
        assert mismatch.status == 400 and "Request body and URI mismatch" in mismatch.raw.decode()
        quota = demo.call("GET", f"{demo.url('compute')}/limits").body["limits"]["absolute"]["maxServerMeta"]
        many = {f"k{i}": "x" for i in range(quota)}
        over = demo.call("POST", f"{base}/metadata", {"metadata": many})
        assert over.status == 403 and f"Maximum number of metadata items exceeds {quota}" in over.raw.decode()
        assert demo.call("GET", f"{base}/metadata").body == {"metadata": {"role one": "v" * 255}}
        assert demo.call("DELETE", f"{base}/metadata/nope").status == 404

        # a shelved server takes neither (Nova: active, paused, suspended, stopped only)
        assert demo.call("POST", f"{base}/action", {"shelve": None}).status == 202
        settled(demo, sid, "SHELVED_OFFLOADED")
        refused = demo.call("PUT", f"{base}/metadata/k", {"meta": {"k": "v"}})
        assert refused.status == 409 and "Cannot 'update metadata' instance" in refused.raw.decode()
        refused = demo.call("PUT", f"{base}/tags/late", headers=V226)
        assert refused.status == 409 and "Cannot 'update tag' instance" in refused.raw.decode()
    finally:
        cli(cloud, cloud.member.name, "server", "delete", "--wait", name, check=False)
        for image in demo.call("GET", f"{demo.url('image')}/v2/images?instance_uuid={sid}").body["images"]:
            demo.call("DELETE", f"{demo.url('image')}/v2/images/{image['id']}")
