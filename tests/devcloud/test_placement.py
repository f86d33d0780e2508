"""Placement: version document and microversions, admin-only policy, providers, inventories, traits,
aggregates, allocations (capacity and generation conflicts), usages, through raw HTTP and openstacksdk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, call, login

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def mv(version: str = "1.39") -> dict[str, str]:
    return {"OpenStack-API-Version": f"placement {version}"}


@pytest.fixture(scope="module")
def admin(cloud: TestCloud) -> Session:
    return login(cloud.admin)


@pytest.fixture
def provider(admin: Session) -> Iterator[dict[str, Any]]:
    base = admin.url("placement")
    rp_uuid = str(uuid.uuid4())
    reply = admin.call(
        "POST", base + "/resource_providers", {"name": "test-rp-" + rp_uuid[:8], "uuid": rp_uuid}, headers=mv()
    )
    assert reply.status == 200, reply.raw
    inv = {
        "VCPU": {"total": 4, "allocation_ratio": 2.0, "max_unit": 4},
        "MEMORY_MB": {"total": 2048, "reserved": 512},
    }
    put = admin.call(
        "PUT",
        f"{base}/resource_providers/{rp_uuid}/inventories",
        {"inventories": inv, "resource_provider_generation": reply.body["generation"]},
        headers=mv(),
    )
    assert put.status == 200, put.raw
    yield {"uuid": rp_uuid, "url": f"{base}/resource_providers/{rp_uuid}", "base": base}
    for consumer in admin.call("GET", f"{base}/resource_providers/{rp_uuid}/allocations", headers=mv()).body.get(
        "allocations", {}
    ):
        admin.call("DELETE", f"{base}/allocations/{consumer}", headers=mv())
    admin.call("DELETE", f"{base}/resource_providers/{rp_uuid}", headers=mv())


def _error(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.raw
    err = reply.body["errors"][0]
    assert err["status"] == status and err["title"] and err["detail"] and "code" in err
    return err


def test_root_version_document(admin: Session) -> None:
    reply = call("GET", admin.url("placement"))
    assert reply.status == 200
    version = reply.body["versions"][0]
    assert version["id"] == "v1.0" and version["min_version"] == "1.0"
    assert tuple(int(x) for x in version["max_version"].split(".")) >= (1, 36)
    assert reply.header("OpenStack-API-Version").startswith("placement ")


def test_microversion_header(admin: Session) -> None:
    url = admin.url("placement") + "/resource_providers"
    assert admin.call("GET", url, headers=mv("1.14")).header("OpenStack-API-Version") == "placement 1.14"
    assert admin.call("GET", url).header("OpenStack-API-Version") == "placement 1.0"
    _error(admin.call("GET", url, headers=mv("1.999")), 406)
    _error(admin.call("GET", url, headers=mv("bogus")), 400)


def test_member_is_forbidden(cloud: TestCloud) -> None:
    member = login(cloud.member)
    err = _error(member.call("GET", member.url("placement") + "/resource_providers", headers=mv()), 403)
    assert "policy" in err["detail"].lower()


def test_provider_inventories_usages(admin: Session, provider: dict[str, Any]) -> None:
    shown = admin.call("GET", provider["url"], headers=mv()).body
    assert shown["uuid"] == provider["uuid"] and shown["root_provider_uuid"] == provider["uuid"]
    assert shown["parent_provider_uuid"] is None
    assert {link["rel"] for link in shown["links"]} >= {"self", "inventories", "usages", "traits", "allocations"}
    old = admin.call("GET", provider["url"], headers=mv("1.13")).body
    assert "root_provider_uuid" not in old

    inv = admin.call("GET", provider["url"] + "/inventories", headers=mv()).body
    assert inv["inventories"]["VCPU"] == {
        "total": 4, "reserved": 0, "min_unit": 1, "max_unit": 4, "step_size": 1, "allocation_ratio": 2.0,
    }  # fmt: skip
    assert inv["resource_provider_generation"] == shown["generation"]
    one = admin.call("GET", provider["url"] + "/inventories/MEMORY_MB", headers=mv()).body
    assert one["reserved"] == 512
    usages = admin.call("GET", provider["url"] + "/usages", headers=mv()).body
    assert usages["usages"] == {"VCPU": 0, "MEMORY_MB": 0}

    listed = admin.call("GET", provider["base"] + f"/resource_providers?uuid={provider['uuid']}", headers=mv()).body
    assert [r["uuid"] for r in listed["resource_providers"]] == [provider["uuid"]]
    fits = admin.call("GET", provider["base"] + "/resource_providers?resources=VCPU:4", headers=mv()).body
    assert provider["uuid"] in {r["uuid"] for r in fits["resource_providers"]}
    too_big = admin.call(
        "GET", provider["base"] + "/resource_providers?resources=VCPU:5", headers=mv()
    ).body  # max_unit
    assert provider["uuid"] not in {r["uuid"] for r in too_big["resource_providers"]}


def test_generation_conflict_and_bad_inventory(admin: Session, provider: dict[str, Any]) -> None:
    gen = admin.call("GET", provider["url"], headers=mv()).body["generation"]
    stale = admin.call(
        "PUT",
        provider["url"] + "/inventories",
        {"inventories": {"VCPU": {"total": 8}}, "resource_provider_generation": gen - 1},
        headers=mv(),
    )
    assert _error(stale, 409)["code"] == "placement.concurrent_update"
    bad = admin.call(
        "PUT",
        provider["url"] + "/inventories",
        {"inventories": {"VCPU": {"total": -3}}, "resource_provider_generation": gen},
        headers=mv(),
    )
    _error(bad, 400)
    unknown = admin.call(
        "PUT",
        provider["url"] + "/inventories",
        {"inventories": {"NOT_A_CLASS": {"total": 3}}, "resource_provider_generation": gen},
        headers=mv(),
    )
    _error(unknown, 400)
    malformed = admin.call(
        "PUT", provider["url"] + "/inventories", raw=b"{", headers={**mv(), "Content-Type": "application/json"}
    )
    _error(malformed, 400)
    assert admin.call("GET", provider["url"], headers=mv()).body["generation"] == gen
    assert admin.call("GET", provider["url"] + "/inventories", headers=mv()).body["inventories"]["VCPU"]["total"] == 4


def test_allocations(admin: Session, provider: dict[str, Any]) -> None:
    base = provider["base"]
    consumer = str(uuid.uuid4())
    project, user = uuid.uuid4().hex, uuid.uuid4().hex
    body = {
        "allocations": {provider["uuid"]: {"resources": {"VCPU": 3, "MEMORY_MB": 1024}}},
        "project_id": project,
        "user_id": user,
        "consumer_generation": None,
        "consumer_type": "INSTANCE",
    }
    assert admin.call("PUT", f"{base}/allocations/{consumer}", body, headers=mv()).status == 204
    shown = admin.call("GET", f"{base}/allocations/{consumer}", headers=mv()).body
    assert shown["allocations"][provider["uuid"]]["resources"] == {"VCPU": 3, "MEMORY_MB": 1024}
    assert shown["project_id"] == project and shown["consumer_generation"] == 1

    usages = admin.call("GET", provider["url"] + "/usages", headers=mv()).body["usages"]
    assert usages == {"VCPU": 3, "MEMORY_MB": 1024}
    by_project = admin.call("GET", f"{base}/usages?project_id={project}", headers=mv("1.37")).body
    assert by_project["usages"] == {"VCPU": 3, "MEMORY_MB": 1024}

    # Capacity: (2048 - 512) * 1.0 = 1536 MB, so another 1024 does not fit.
    other = str(uuid.uuid4())
    over = dict(body, allocations={provider["uuid"]: {"resources": {"MEMORY_MB": 1024}}})
    err = _error(admin.call("PUT", f"{base}/allocations/{other}", over, headers=mv()), 409)
    assert "capacity" in err["detail"]
    assert admin.call("GET", f"{base}/allocations/{other}", headers=mv()).body == {"allocations": {}}

    stale = dict(body, consumer_generation=None)
    assert _error(admin.call("PUT", f"{base}/allocations/{consumer}", stale, headers=mv()), 409)["code"] == (
        "placement.concurrent_update"
    )
    missing_rp = dict(body, allocations={str(uuid.uuid4()): {"resources": {"VCPU": 1}}}, consumer_generation=1)
    _error(admin.call("PUT", f"{base}/allocations/{consumer}", missing_rp, headers=mv()), 400)

    per_rp = admin.call("GET", provider["url"] + "/allocations", headers=mv()).body
    assert per_rp["allocations"] == {consumer: {"resources": {"VCPU": 3, "MEMORY_MB": 1024}}}

    assert admin.call("DELETE", f"{base}/allocations/{consumer}", headers=mv()).status == 204
    _error(admin.call("DELETE", f"{base}/allocations/{consumer}", headers=mv()), 404)
    assert admin.call("GET", provider["url"] + "/usages", headers=mv()).body["usages"] == {"VCPU": 0, "MEMORY_MB": 0}


def test_traits_and_aggregates(admin: Session, provider: dict[str, Any]) -> None:
    base = provider["base"]
    gen = admin.call("GET", provider["url"], headers=mv()).body["generation"]
    custom = "CUSTOM_DEVCLOUD_" + uuid.uuid4().hex[:6].upper()
    assert admin.call("PUT", f"{base}/traits/{custom}", headers=mv()).status == 201
    put = admin.call(
        "PUT",
        provider["url"] + "/traits",
        {"traits": ["HW_CPU_X86_AVX2", custom], "resource_provider_generation": gen},
        headers=mv(),
    )
    assert put.status == 200 and put.body["traits"] == sorted(["HW_CPU_X86_AVX2", custom])
    unknown = admin.call(
        "PUT",
        provider["url"] + "/traits",
        {"traits": ["CUSTOM_NOPE_" + uuid.uuid4().hex[:4].upper()], "resource_provider_generation": gen + 1},
        headers=mv(),
    )
    _error(unknown, 400)
    required = admin.call("GET", f"{base}/resource_providers?required={custom}", headers=mv()).body
    assert [r["uuid"] for r in required["resource_providers"]] == [provider["uuid"]]
    listed = admin.call("GET", f"{base}/traits?name=startswith:CUSTOM_DEVCLOUD_", headers=mv()).body["traits"]
    assert custom in listed

    agg = str(uuid.uuid4())
    gen = admin.call("GET", provider["url"], headers=mv()).body["generation"]
    aggs = admin.call(
        "PUT", provider["url"] + "/aggregates", {"aggregates": [agg], "resource_provider_generation": gen}, headers=mv()
    )
    assert aggs.status == 200 and aggs.body["aggregates"] == [agg]
    member_of = admin.call("GET", f"{base}/resource_providers?member_of=in:{agg}", headers=mv()).body
    assert [r["uuid"] for r in member_of["resource_providers"]] == [provider["uuid"]]

    classes = admin.call("GET", f"{base}/resource_classes", headers=mv()).body["resource_classes"]
    assert {"VCPU", "MEMORY_MB", "DISK_GB"} <= {c["name"] for c in classes}


def test_sdk_resource_providers(cloud: TestCloud, provider: dict[str, Any]) -> None:
    conn = cloud.admin.connect()
    rps = {rp.id: rp for rp in conn.placement.resource_providers()}
    assert provider["uuid"] in rps
    inventories = {i.resource_class: i.total for i in conn.placement.resource_provider_inventories(provider["uuid"])}
    assert inventories == {"VCPU": 4, "MEMORY_MB": 2048}


def test_allocation_candidates(admin: Session, provider: dict[str, Any]) -> None:
    base = provider["base"]
    reply = admin.call("GET", f"{base}/allocation_candidates?resources=VCPU:2,MEMORY_MB:256", headers=mv())
    assert reply.status == 200, reply.raw
    mine = [r for r in reply.body["allocation_requests"] if provider["uuid"] in r["allocations"]]
    assert mine and mine[0]["allocations"][provider["uuid"]]["resources"] == {"VCPU": 2, "MEMORY_MB": 256}
    summary = reply.body["provider_summaries"][provider["uuid"]]
    assert summary["resources"]["MEMORY_MB"] == {"capacity": 1536, "used": 0}
    too_much = admin.call("GET", f"{base}/allocation_candidates?resources=MEMORY_MB:4096", headers=mv()).body
    assert provider["uuid"] not in too_much["provider_summaries"]
    _error(admin.call("GET", f"{base}/allocation_candidates", headers=mv()), 400)
    _error(admin.call("GET", f"{base}/allocation_candidates?resources=VCPU:1", headers=mv("1.9")), 404)


def test_project_usages_by_consumer_type(admin: Session, provider: dict[str, Any]) -> None:
    base = provider["base"]
    consumer, project = str(uuid.uuid4()), uuid.uuid4().hex
    body = {
        "allocations": {provider["uuid"]: {"resources": {"VCPU": 1}}},
        "project_id": project,
        "user_id": uuid.uuid4().hex,
        "consumer_generation": None,
        "consumer_type": "INSTANCE",
    }
    assert admin.call("PUT", f"{base}/allocations/{consumer}", body, headers=mv()).status == 204
    grouped = admin.call("GET", f"{base}/usages?project_id={project}", headers=mv("1.38")).body["usages"]
    assert grouped["all"] == {"consumer_count": 1, "VCPU": 1} and grouped["INSTANCE"] == grouped["all"]
    flat = admin.call("GET", f"{base}/usages?project_id={project}", headers=mv("1.37")).body["usages"]
    assert flat == {"VCPU": 1}
    assert admin.call("GET", f"{base}/allocations/{consumer}", headers=mv()).body["consumer_type"] == "INSTANCE"
