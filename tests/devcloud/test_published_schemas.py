"""Every compute GET route devcloud serves, called at the lowest and the highest microversion it supports, as the
member and as the admin, with real resources behind each parameter. The package's autouse fixture
(tests/devcloud/conftest.py) checks every answer against Nova's published response schema for that route,
method and microversion, or against Nova's fault shape; this test also checks that no route was left out and
that the schema loader knows Nova's routes."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, login, nova_schemas
from tests.devcloud.conftest import check_answer
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

API = "/compute/v2.1"
LOWEST, HIGHEST = "2.1", "2.100"


def mv(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"compute {version}"}


@pytest.fixture(scope="module")
def world(cloud: TestCloud) -> Any:
    """A server with everything a GET route can name: metadata, tags, a key pair, a group, a port, a volume,
    an instance action, a console token; a private flavor with an extra spec."""
    if not cloud.is_devcloud:
        pytest.skip("walks devcloud's own route table (/devcloud/routes)")
    devcloud = cloud
    demo, admin = login(devcloud.member), login(devcloud.admin)
    nova = demo.url("compute")
    suffix = uuid.uuid4().hex[:6]
    image_id = demo.call("GET", f"{demo.url('image')}/v2/images?name={devcloud.image_name}").body["images"][0]["id"]
    private = {"name": f"t-sweep-{suffix}", "ram": 128, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": False}
    flavor = admin.call("POST", f"{nova}/flavors", {"flavor": private}).body["flavor"]
    admin.call("POST", f"{nova}/flavors/{flavor['id']}/os-extra_specs", {"extra_specs": {"hw:cpu_policy": "shared"}})
    admin.call("POST", f"{nova}/flavors/{flavor['id']}/action", {"addTenantAccess": {"tenant": demo.project_id}})
    key = f"t-sweep-{suffix}"
    assert demo.call("POST", f"{nova}/os-keypairs", {"keypair": {"name": key}}, headers=mv("2.2")).status == 201
    group = demo.call(
        "POST", f"{nova}/os-server-groups", {"server_group": {"name": f"t-sweep-{suffix}", "policy": "anti-affinity"}},
        headers=mv("2.64"),
    ).body["server_group"]  # fmt: skip
    server = {
        "name": f"t-sweep-{suffix}", "imageRef": image_id, "flavorRef": "42", "networks": "auto", "key_name": key,
        "metadata": {"role": "sweep"}, "tags": ["sweep"],
    }  # fmt: skip
    created = demo.call(
        "POST", f"{nova}/servers", {"server": server, "OS-SCH-HNT:scheduler_hints": {"group": group["id"]}},
        headers=mv("2.52"),
    )  # fmt: skip
    assert created.status == 202, created.raw
    sid = created.body["server"]["id"]

    def active() -> bool:
        s = demo.call("GET", f"{nova}/servers/{sid}").body["server"]
        return s["status"] == "ACTIVE" and not s["OS-EXT-STS:task_state"]

    wait_until(active, what="the sweep server ACTIVE")
    volumes = demo.url("block-storage") + "/volumes"
    volume = demo.call("POST", volumes, {"volume": {"size": 1, "name": f"t-sweep-{suffix}"}}).body["volume"]
    wait_until(lambda: demo.call("GET", f"{volumes}/{volume['id']}").body["volume"]["status"] == "available",
               what="the sweep volume")  # fmt: skip
    attach = {"volumeAttachment": {"volumeId": volume["id"]}}
    assert demo.call("POST", f"{nova}/servers/{sid}/os-volume_attachments", attach).status == 200
    console = demo.call(
        "POST", f"{nova}/servers/{sid}/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}},
        headers=mv("2.6"),
    ).body["remote_console"]  # fmt: skip
    ports = demo.call("GET", f"{nova}/servers/{sid}/os-interface").body["interfaceAttachments"]
    action = demo.call("GET", f"{nova}/servers/{sid}/os-instance-actions").body["instanceActions"][0]
    aggregates = admin.call("GET", f"{nova}/os-aggregates").body["aggregates"]
    yield {
        "demo": demo, "admin": admin, "nova": nova, "server_id": sid, "flavor_id": flavor["id"],
        "name": key, "group_id": group["id"], "image_id": image_id, "project_id": demo.project_id,
        "class_name": "default", "network_label": next(iter(_addresses(demo, nova, sid))),
        "request_id": action["request_id"], "port_id": ports[0]["port_id"], "volume_id": volume["id"],
        "tag": "sweep", "token": console["url"].split("token%3D", 1)[1], "aggregate_id": str(aggregates[0]["id"]),
        "pattern": "compute",
    }  # fmt: skip
    demo.call("DELETE", f"{nova}/servers/{sid}")
    wait_until(lambda: demo.call("GET", f"{nova}/servers/{sid}").status == 404, what="the sweep server deleted")
    demo.call("DELETE", f"{volumes}/{volume['id']}")
    demo.call("DELETE", f"{nova}/os-server-groups/{group['id']}")
    demo.call("DELETE", f"{nova}/os-keypairs/{key}")
    admin.call("DELETE", f"{nova}/flavors/{flavor['id']}")


def _addresses(demo: Session, nova: str, sid: str) -> dict[str, Any]:
    return demo.call("GET", f"{nova}/servers/{sid}/ips").body["addresses"]


# Route parameters whose value depends on where they stand
_KEYS = {"/flavors/": "hw:cpu_policy", "/servers/": "role", "/images/": "os_distro"}


def _url(world: dict[str, Any], template: str, session: Session, version: str) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "key":
            return next(v for prefix, v in _KEYS.items() if template.startswith(API + prefix))
        if name == "hypervisor_id":  # an integer id below 2.53, a UUID from 2.53
            hvs = world["admin"].call("GET", world["nova"] + "/os-hypervisors", headers=mv(version)).body
            return str(hvs["hypervisors"][0]["id"])
        return str(world[name])

    return world["nova"].rsplit(API, 1)[0] + re.sub(r"\{(\w+)\}", value, template)


def test_every_compute_get_route_at_both_ends_of_the_microversion_range(devcloud: TestCloud, world: Any) -> None:
    routes = devcloud.control("routes", method="GET")["routes"]
    gets = sorted({r["route"] for r in routes if r["method"] == "GET" and r["route"].startswith(API + "/")})
    assert len(gets) > 40
    start = devcloud.control("answers", {"record": True})["last"]
    for template in gets:
        for version in (LOWEST, HIGHEST):
            for session in (world["demo"], world["admin"]):
                reply = session.call("GET", _url(world, template, session, version), headers=mv(version))
                assert reply.status < 500, (template, version, reply.raw[:300])
    answers = devcloud.control(f"answers?after={start}", method="GET")["answers"]
    seen = {(a["route"], a["compute_version"]) for a in answers if a["method"] == "GET"}
    missing = [(t, v) for t in gets for v in (1, 100) if (t, v) not in seen]
    assert not missing, missing
    ok = {a["route"] for a in answers if a["status"] == 200}
    # what answers 404 at both ends is gated by microversion in Nova too (e.g. the image proxy above 2.35)
    assert len(ok) > len(gets) * 0.8, sorted(set(gets) - ok)
    assert [p for a in answers for p in check_answer(a)] == []


def test_the_schema_loader_knows_novas_routes() -> None:
    routes = nova_schemas.routes()
    assert len(routes) > 150
    server = nova_schemas.schema_for("GET", "/servers/{server_id}", 100, None)
    assert (
        isinstance(server, dict)
        and server["additionalProperties"] is False
        and "oneOf" in server["properties"]["server"]
    )
    assert nova_schemas.schema_for("POST", "/servers/{id}/action", 44, "createBackup") == {"type": "null"}
    assert nova_schemas.schema_for("GET", "/images", 36, None) is None  # the proxy ends at 2.35
    assert nova_schemas.schema_for("GET", "/no-such-thing", 1, None) is False


def test_the_check_catches_an_answer_nova_would_not_give() -> None:
    """The check itself: a key Nova's schema forbids, a missing required one, a route Nova lacks, a bad fault."""
    flavor = {"id": "1", "name": "m1.tiny", "links": [{"rel": "self", "href": "http://h/compute/v2.1/flavors/1"}]}
    answer = {
        "method": "GET", "path": "/compute/v2.1/flavors", "route": API + "/flavors", "query": "", "status": 200,
        "compute_version": 1, "action": None, "body": '{"flavors": [%s]}',
    }  # fmt: skip
    import json

    good = {**answer, "body": json.dumps({"flavors": [flavor]})}
    assert check_answer(good) == []
    extra = {**answer, "body": json.dumps({"flavors": [{**flavor, "description": None}]})}  # a 2.55 key at 2.1
    assert any("'description' was unexpected" in p for p in check_answer(extra))
    missing = {**answer, "body": json.dumps({"flavors": [{"id": "1", "links": flavor["links"]}]})}
    assert any("'name' is a required property" in p for p in check_answer(missing))
    assert check_answer({**answer, "route": API + "/os-nothing", "path": "/compute/v2.1/os-nothing"}) != []
    fault = {**answer, "status": 404, "body": json.dumps({"itemNotFound": {"code": 404, "message": "x", "y": 1}})}
    assert any("'y' was unexpected" in p for p in check_answer(fault))
