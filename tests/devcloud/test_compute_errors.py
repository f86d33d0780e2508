"""Nova's error contract on devcloud, over raw HTTP: status codes, `{"<kind>": {"code", "message"}}` bodies,
Nova's message wording, microversion negotiation, policy, and no state change on a refused request."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Reply, Session, call, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

MV = {"OpenStack-API-Version": "compute 2.100"}


@pytest.fixture(scope="module")
def env(cloud: TestCloud) -> dict[str, Any]:
    if not cloud.is_devcloud:
        pytest.skip("checks devcloud's seeded data and fault injection")
    demo, admin = login(cloud.member), login(cloud.admin)
    demo2 = login(cloud.member, project_name="demo-2")
    image = demo.call("GET", demo.url("image") + "/v2/images?name=cirros-0.6.3-x86_64-disk").body["images"][0]
    return {
        "demo": demo,
        "admin": admin,
        "demo2": demo2,
        "nova": demo.url("compute"),
        "image": image["id"],
        "cloud": cloud,
    }


def _fault(reply: Reply, status: int, kind: str, *fragments: str) -> str:
    assert reply.status == status, (reply.status, reply.raw[:400])
    assert reply.header(
        "Content-Type",
    ) and "json" in reply.header("Content-Type")
    body = reply.body
    assert list(body) == [kind], body
    assert body[kind]["code"] == status
    message = body[kind]["message"]
    for fragment in fragments:
        assert fragment in message, message
    return message


def _count(s: Session) -> int:
    return len(s.call("GET", s.url("compute") + "/servers?limit=1000").body["servers"])


def _create(s: Session, server: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return s.call("POST", s.url("compute") + "/servers", {"server": server}, headers=headers or MV)


def _server(env: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "err-" + uuid.uuid4().hex[:6],
        "imageRef": env["image"],
        "flavorRef": "1",
        "networks": "none",
        **extra,
    }


def _active(env: dict[str, Any], session: Session | None = None) -> str:
    s = session or env["demo"]
    reply = _create(s, _server(env))
    assert reply.status == 202, reply.raw
    sid = reply.body["server"]["id"]
    for _ in range(300):
        if s.call("GET", f"{env['nova']}/servers/{sid}").body["server"]["status"] == "ACTIVE":
            return sid
        time.sleep(0.02)
    pytest.fail("not ACTIVE")


def test_bad_create_requests_are_400_and_change_nothing(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    before = _count(demo)
    malformed = demo.call("POST", nova + "/servers", raw=b"{not json", headers={"Content-Type": "application/json"})
    _fault(malformed, 400, "badRequest")
    _fault(demo.call("POST", nova + "/servers", {"srv": {}}), 400, "badRequest", "'server' is a required property")
    no_name = {k: v for k, v in _server(env).items() if k != "name"}
    _fault(_create(demo, no_name), 400, "badRequest", "'name' is a required property")
    no_flavor = {k: v for k, v in _server(env).items() if k != "flavorRef"}
    _fault(_create(demo, no_flavor), 400, "badRequest", "'flavorRef' is a required property")
    no_networks = {k: v for k, v in _server(env).items() if k != "networks"}
    _fault(_create(demo, no_networks), 400, "badRequest", "'networks' is a required property")
    legacy = _create(demo, no_networks, {"OpenStack-API-Version": "compute 2.36"})  # "auto" below 2.37
    assert legacy.status == 202
    _fault(_create(demo, _server(env, flavorRef="nope")), 400, "badRequest", "Flavor nope could not be found.")
    missing_image = str(uuid.uuid4())
    _fault(_create(demo, _server(env, imageRef=missing_image)), 400, "badRequest", f"Image {missing_image} could not")
    _fault(_create(demo, _server(env, min_count=-1)), 400, "badRequest", "less than the minimum of 1")
    bdm = [
        {"uuid": env["image"], "source_type": "image", "destination_type": "volume", "boot_index": 0, "volume_size": -1}
    ]
    _fault(_create(demo, _server(env, block_device_mapping_v2=bdm)), 400, "badRequest", "volume_size")
    _fault(_create(demo, _server(env, user_data="not base64!")), 400, "badRequest", "user_data")
    _fault(_create(demo, _server(env, key_name="no-such-key")), 400, "badRequest", "Invalid key_name provided.")
    _fault(_create(demo, _server(env, availability_zone="mars")), 400, "badRequest", "availability zone")
    _fault(
        _create(demo, _server(env, tags=["a"]), {"OpenStack-API-Version": "compute 2.51"}),
        400,
        "badRequest",
        "Additional properties are not allowed ('tags' was unexpected)",
    )
    # only the 2.36 request above made a server
    assert _count(demo) == before + 1
    assert demo.call("DELETE", f"{nova}/servers/{legacy.body['server']['id']}").status == 204


def test_microversion_negotiation(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    ok = demo.call("GET", nova + "/flavors", headers={"OpenStack-API-Version": "compute 2.60"})
    assert ok.header("OpenStack-API-Version") == "compute 2.60" and ok.header("X-OpenStack-Nova-API-Version") == "2.60"
    assert "OpenStack-API-Version" in ok.header("Vary")
    assert demo.call("GET", nova + "/flavors").header("OpenStack-API-Version") == "compute 2.1"
    latest = demo.call("GET", nova + "/flavors", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.header("OpenStack-API-Version") == "compute 2.100"
    for version in ("2.101", "3.0"):
        reply = demo.call("GET", nova + "/flavors", headers={"OpenStack-API-Version": f"compute {version}"})
        expected = f"Version {version} is not supported by the API. Minimum is 2.1 and maximum is 2.100."
        _fault(reply, 406, "computeFault", expected)
    legacy = demo.call("GET", nova + "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.999"})
    assert legacy.status == 406
    doc = call("GET", nova)
    assert (
        doc.status == 200 and doc.body["version"]["version"] == "2.100" and doc.body["version"]["min_version"] == "2.1"
    )
    versions = call("GET", nova.rsplit("/v2.1", 1)[0])
    assert [v["id"] for v in versions.body["versions"]] == ["v2.0", "v2.1"]


def test_microversioned_shapes(env: dict[str, Any]) -> None:
    demo, admin, nova = env["demo"], env["admin"], env["nova"]
    sid = _active(env)
    try:
        old = demo.call("GET", f"{nova}/servers/{sid}", headers={"OpenStack-API-Version": "compute 2.46"}).body
        assert old["server"]["flavor"]["id"] == "1" and "tags" in old["server"]
        new = demo.call("GET", f"{nova}/servers/{sid}", headers=MV).body["server"]
        assert "id" not in new["flavor"] and new["flavor"]["original_name"] == "m1.tiny"
        assert new["pinned_availability_zone"] is None and new["scheduler_hints"] == {}
        assert "OS-EXT-SRV-ATTR:host" not in new and new["locked"] is False and new["locked_reason"] is None
        as_admin = admin.call("GET", f"{nova}/servers/{sid}", headers=MV).body["server"]
        assert as_admin["OS-EXT-SRV-ATTR:host"].startswith("compute-") and as_admin["host_status"] == "UP"
        base = demo.call("GET", f"{nova}/servers/{sid}").body["server"]
        assert "locked" not in base and "description" not in base
        # hypervisor ids and statistics
        h52 = admin.call("GET", nova + "/os-hypervisors", headers={"OpenStack-API-Version": "compute 2.52"}).body
        assert [h["id"] for h in h52["hypervisors"]] == [1, 2, 3, 4]
        h87 = admin.call("GET", nova + "/os-hypervisors/detail", headers={"OpenStack-API-Version": "compute 2.87"})
        assert "vcpus_used" in h87.body["hypervisors"][0] and "uptime" not in h87.body["hypervisors"][0]
        h88 = admin.call("GET", nova + "/os-hypervisors/detail", headers={"OpenStack-API-Version": "compute 2.88"})
        assert "vcpus_used" not in h88.body["hypervisors"][0] and "uptime" in h88.body["hypervisors"][0]
        stats = admin.call(
            "GET", nova + "/os-hypervisors/statistics", headers={"OpenStack-API-Version": "compute 2.87"}
        )
        assert stats.body["hypervisor_statistics"]["count"] == 4
        _fault(admin.call("GET", nova + "/os-hypervisors/statistics", headers=MV), 404, "itemNotFound")
        with_servers = admin.call("GET", nova + "/os-hypervisors?with_servers=true", headers=MV).body["hypervisors"]
        assert sid in [srv["uuid"] for h in with_servers for srv in h.get("servers", [])]
    finally:
        demo.call("DELETE", f"{nova}/servers/{sid}")


def test_state_conflicts_locks_and_other_projects(env: dict[str, Any]) -> None:
    demo, demo2, admin, nova = env["demo"], env["demo2"], env["admin"], env["nova"]
    sid = _active(env)
    try:
        _fault(demo2.call("GET", f"{nova}/servers/{sid}"), 404, "itemNotFound", f"Instance {sid} could not be found.")
        _fault(demo2.call("DELETE", f"{nova}/servers/{sid}"), 404, "itemNotFound")
        _fault(
            demo.call("POST", f"{nova}/servers/{sid}/action", {"os-start": None}),
            409,
            "conflictingRequest",
            f"Cannot 'start' instance {sid} while it is in vm_state active",
        )
        assert demo.call("POST", f"{nova}/servers/{sid}/action", {"os-stop": None}).status == 202
        _fault(
            demo.call("POST", f"{nova}/servers/{sid}/action", {"os-stop": None}),
            409,
            "conflictingRequest",
            f"Cannot 'stop' instance {sid} while it is in task_state powering-off",
        )
        _fault(demo.call("POST", f"{nova}/servers/{sid}/action", {"reboot": {"type": "SIDEWAYS"}}), 400, "badRequest")
        _fault(demo.call("POST", f"{nova}/servers/{sid}/action", {"explode": {}}), 400, "badRequest")
        lock = {"lock": {"locked_reason": "audit"}}
        assert admin.call("POST", f"{nova}/servers/{sid}/action", lock, headers=MV).status == 202
        _fault(demo.call("DELETE", f"{nova}/servers/{sid}"), 409, "conflictingRequest", f"Instance {sid} is locked")
        _fault(demo.call("POST", f"{nova}/servers/{sid}/action", {"unlock": None}), 403, "forbidden", "unlock_override")
        assert admin.call("POST", f"{nova}/servers/{sid}/action", {"unlock": None}).status == 202
    finally:
        assert demo.call("DELETE", f"{nova}/servers/{sid}").status == 204


def test_policy_for_members(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    project = demo.project_id
    for method, path, rule in (
        ("GET", "/os-hypervisors", "os_compute_api:os-hypervisors:list"),
        ("GET", "/os-services", "os_compute_api:os-services:list"),
        ("PUT", f"/os-quota-sets/{project}", "os_compute_api:os-quota-sets:update"),
        ("GET", "/os-console-auth-tokens/abc", "os_compute_api:os-console-auth-tokens"),
        ("DELETE", "/flavors/1", "os_compute_api:os-flavor-manage:delete"),
    ):
        body = {"quota_set": {"instances": 50}} if method == "PUT" else None
        _fault(
            demo.call(method, nova + path, body, headers=MV),
            403,
            "forbidden",
            f"Policy doesn't allow {rule} to be performed.",
        )


def test_flavor_validation(env: dict[str, Any]) -> None:
    admin, nova = env["admin"], env["nova"]
    name = "err-flavor-" + uuid.uuid4().hex[:6]
    good = {"name": name, "ram": 128, "vcpus": 1, "disk": 0}
    for bad, fragment in (
        ({**good, "ram": -1}, "less than the minimum of 1"),
        ({**good, "vcpus": 0}, "less than the minimum of 1"),
        ({**good, "disk": -5}, "less than the minimum of 0"),
        ({**good, "name": " padded "}, "does not match"),
        ({**good, "name": ""}, "is too short"),
        ({k: v for k, v in good.items() if k != "ram"}, "'ram' is a required property"),
    ):
        _fault(admin.call("POST", nova + "/flavors", {"flavor": bad}), 400, "badRequest", fragment)
    created = admin.call("POST", nova + "/flavors", {"flavor": good})
    assert created.status == 200
    try:
        _fault(
            admin.call("POST", nova + "/flavors", {"flavor": good}),
            409,
            "conflictingRequest",
            f"Flavor with name {name} already exists.",
        )
        _fault(
            admin.call("POST", nova + "/flavors", {"flavor": {**good, "name": name + "x", "id": "1"}}),
            409,
            "conflictingRequest",
            "Flavor with ID 1 already exists.",
        )
    finally:
        assert admin.call("DELETE", f"{nova}/flavors/{created.body['flavor']['id']}").status == 202
    _fault(admin.call("GET", nova + "/flavors/does-not-exist"), 404, "itemNotFound", "Flavor does-not-exist could not")


def test_keypair_errors_and_generation_by_microversion(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    _fault(
        demo.call("POST", nova + "/os-keypairs", {"keypair": {"name": "k", "public_key": "ssh-rsa garbage"}}),
        400,
        "badRequest",
        "Keypair data is invalid",
    )
    name = "err-key-" + uuid.uuid4().hex[:6]
    _fault(
        demo.call(
            "POST",
            nova + "/os-keypairs",
            {"keypair": {"name": name}},
            headers={"OpenStack-API-Version": "compute 2.92"},
        ),
        400,
        "badRequest",
        "'public_key' is a required property",
    )
    generated = demo.call(
        "POST", nova + "/os-keypairs", {"keypair": {"name": name}}, headers={"OpenStack-API-Version": "compute 2.91"}
    )
    assert generated.status == 201 and "PRIVATE KEY" in generated.body["keypair"]["private_key"]
    again = {"keypair": {"name": name, "public_key": generated.body["keypair"]["public_key"]}}
    _fault(
        demo.call("POST", nova + "/os-keypairs", again), 409, "conflictingRequest", f"Key pair '{name}' already exists."
    )
    assert demo.call("DELETE", f"{nova}/os-keypairs/{name}", headers=MV).status == 204
    _fault(demo.call("GET", f"{nova}/os-keypairs/{name}"), 404, "itemNotFound", f"Keypair {name} not found")


def test_over_quota_and_no_valid_host(env: dict[str, Any]) -> None:
    demo2, admin, nova = env["demo2"], env["admin"], env["nova"]
    project = demo2.project_id
    assert admin.call("PUT", f"{nova}/os-quota-sets/{project}", {"quota_set": {"instances": 1}}).status == 200
    try:
        before = _count(demo2)
        sid = _active(env, demo2)
        reply = _create(demo2, _server(env))
        _fault(reply, 403, "forbidden", "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
        assert _count(demo2) == before + 1
        limits = demo2.call("GET", nova + "/limits", headers=MV).body["limits"]["absolute"]
        assert limits["maxTotalInstances"] == 1 and limits["totalInstancesUsed"] == 1
        assert demo2.call("DELETE", f"{nova}/servers/{sid}").status == 204
    finally:
        assert admin.call("DELETE", f"{nova}/os-quota-sets/{project}").status == 202

    # a flavor no host can hold: the server goes to ERROR with Nova's fault
    name = "err-huge-" + uuid.uuid4().hex[:6]
    huge = admin.call("POST", nova + "/flavors", {"flavor": {"name": name, "ram": 1024, "vcpus": 1, "disk": 900}})
    try:
        reply = _create(admin, _server(env, flavorRef=huge.body["flavor"]["id"]))
        sid = reply.body["server"]["id"]
        for _ in range(300):
            server = admin.call("GET", f"{nova}/servers/{sid}").body["server"]
            if server["status"] == "ERROR":
                break
            time.sleep(0.02)
        assert server["status"] == "ERROR" and server["fault"]["code"] == 500
        assert server["fault"]["message"].startswith("No valid host was found.")
        admin.call("DELETE", f"{nova}/servers/{sid}")
    finally:
        admin.call("DELETE", f"{nova}/flavors/{huge.body['flavor']['id']}")

    # devcloud's fault injection: the next build fails
    env["cloud"].control("build-failures", {"count": 1, "message": "Injected build failure"})
    sid = _create(admin, _server(env)).body["server"]["id"]
    for _ in range(300):
        server = admin.call("GET", f"{nova}/servers/{sid}").body["server"]
        if server["status"] == "ERROR":
            break
        time.sleep(0.02)
    assert server["fault"]["message"] == "Injected build failure"
    admin.call("DELETE", f"{nova}/servers/{sid}")


def test_list_paging_sorting_and_filters(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    prefix = "page-" + uuid.uuid4().hex[:6]
    reply = _create(demo, {**_server(env), "name": prefix, "min_count": 3, "max_count": 3})
    assert reply.status == 202
    first = demo.call(
        "GET", f"{nova}/servers/detail?name=^{prefix}&limit=2&sort_key=display_name&sort_dir=asc", headers=MV
    ).body
    assert [s["name"] for s in first["servers"]] == [f"{prefix}-1", f"{prefix}-2"]
    next_href = first["servers_links"][0]["href"]
    assert first["servers_links"][0]["rel"] == "next" and "marker=" in next_href
    second = call("GET", next_href, demo.token, headers=MV).body
    assert [s["name"] for s in second["servers"]] == [f"{prefix}-3"] and "servers_links" not in second
    _fault(demo.call("GET", f"{nova}/servers?marker={uuid.uuid4()}"), 400, "badRequest", "marker")
    _fault(demo.call("GET", f"{nova}/servers?sort_key=bogus"), 400, "badRequest")
    ids = [s["id"] for s in first["servers"] + second["servers"]]
    for sid in ids:
        demo.call("DELETE", f"{nova}/servers/{sid}")


def test_strict_list_query_from_2_75(env: dict[str, Any]) -> None:
    demo, nova = env["demo"], env["nova"]
    loose = demo.call("GET", f"{nova}/servers?bogus=1", headers={"OpenStack-API-Version": "compute 2.74"})
    assert loose.status == 200
    strict = demo.call("GET", f"{nova}/servers?bogus=1", headers={"OpenStack-API-Version": "compute 2.75"})
    _fault(strict, 400, "badRequest", "Additional properties are not allowed ('bogus' was unexpected)")
    _fault(
        demo.call("GET", f"{nova}/servers?all_tenants=1", headers=MV),
        403,
        "forbidden",
        "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.",
    )
    _fault(demo.call("GET", f"{nova}/servers?status=NOPE", headers=MV), 400, "badRequest", "Invalid status value")


def test_bench_seeding_is_admin_only_and_instant(env: dict[str, Any]) -> None:
    demo, demo2, admin, nova = env["demo"], env["demo2"], env["admin"], env["nova"]
    root = nova.split("/compute/")[0]
    body = {"project_name": "demo-2", "count": 3, "flavor": "m1.tiny", "name_prefix": "seeded"}
    assert demo.call("POST", root + "/devcloud/seed-servers", body).status == 403
    reply = admin.call("POST", root + "/devcloud/seed-servers", body)
    assert reply.status == 201 and reply.body["count"] == 3
    listed = demo2.call("GET", f"{nova}/servers/detail?name=^seeded-", headers=MV).body["servers"]
    assert sorted(s["name"] for s in listed) == ["seeded-00001", "seeded-00002", "seeded-00003"]
    assert {s["status"] for s in listed} == {"ACTIVE"}
    hosts = admin.call("GET", f"{nova}/servers/detail?all_tenants=1&name=^seeded-", headers=MV).body["servers"]
    assert len({s["OS-EXT-SRV-ATTR:host"] for s in hosts}) == 3  # spread over the hypervisors
    for sid in reply.body["server_ids"]:
        assert demo2.call("DELETE", f"{nova}/servers/{sid}").status == 204
