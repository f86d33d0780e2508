"""devcloud's Nova on its Neutron, over raw HTTP (Nova's status codes and messages visible): networks and security
groups at create, ports made, bound, moved and released with the server, addresses, os-interface,
os-security-groups and the add/removeSecurityGroup actions."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, login
from tests.devcloud.test_compute_cli import wait_server

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

LATEST = {"OpenStack-API-Version": "compute 2.100"}


@pytest.fixture(scope="module")
def sessions(cloud: TestCloud) -> tuple[Session, Session, Session]:
    if not cloud.is_devcloud:
        pytest.skip("uses devcloud's seeded networks and projects")
    return login(cloud.member), login(cloud.member, "demo-2"), login(cloud.admin)


def _net(s: Session, name: str) -> dict[str, Any]:
    (net,) = s.call("GET", f"{s.url('network')}/v2.0/networks?name={name}").body["networks"]
    return net


def _ports(s: Session, server_id: str) -> list[dict[str, Any]]:
    return s.call("GET", f"{s.url('network')}/v2.0/ports?device_id={server_id}").body["ports"]


def _create(s: Session, headers: dict[str, str] | None = None, **server: Any) -> Any:
    body = {"server": {"name": "n-" + uuid.uuid4().hex[:8], "imageRef": s_image(s), "flavorRef": "1", **server}}
    return s.call("POST", f"{s.url('compute')}/servers", body, headers=headers if headers is not None else LATEST)


def s_image(s: Session) -> str:
    images = s.call("GET", f"{s.url('image')}/v2/images?name=cirros-0.6.3-x86_64-disk").body["images"]
    return images[0]["id"]


def _fault(reply: Any, status: int, text: str) -> None:
    assert reply.status == status, reply.raw[:500]
    (body,) = reply.body.values()
    assert body["message"] == text, body


def test_networks_and_security_groups_are_checked_at_create(sessions: tuple[Session, Session, Session]) -> None:
    demo, demo2, admin = sessions
    public = _net(demo, "public")
    _fault(
        _create(demo, networks=[{"uuid": public["id"]}]),
        403,
        f"It is not allowed to create an interface on external network {public['id']}",
    )
    _fault(
        _create(demo, networks="auto", security_groups=[{"name": "nope"}]),
        400,
        f"Security group nope not found for project {demo.project_id}.",
    )
    # Two groups of one name: Nova refuses the name (409) and takes either by id.
    api = demo.url("network")
    twins = [
        demo.call("POST", f"{api}/v2.0/security-groups", {"security_group": {"name": "t-twin"}}).body["security_group"]
        for _ in range(2)
    ]
    try:
        _fault(
            _create(demo, networks="auto", security_groups=[{"name": "t-twin"}]),
            409,
            "Multiple security_group matches found for name 't-twin', use an ID to be more specific.",
        )
        reply = _create(demo, networks="auto", security_groups=[{"name": twins[1]["id"]}])
        assert reply.status == 202, reply.raw
        sid = reply.body["server"]["id"]
        assert wait_server(demo, sid, "ACTIVE") is not None
        assert [p["security_groups"] for p in _ports(demo, sid)] == [[twins[1]["id"]]]
        assert demo.call("DELETE", f"{demo.url('compute')}/servers/{sid}").status == 204
    finally:
        for sg in twins:
            demo.call("DELETE", f"{api}/v2.0/security-groups/{sg['id']}")
    ambiguous = "Multiple possible networks found, use a Network ID to be more specific."
    reply = _create(demo2, networks="auto")
    _fault(reply, 409, ambiguous)
    assert list(reply.body) == ["conflictingRequest"]  # Nova's fault name for 409
    _fault(_create(demo2, headers={}), 409, ambiguous)  # no networks below 2.37: the same choice, as in Nova
    # no networks below 2.37 in a project with one usable network: that one, as with auto
    reply = _create(demo, headers={})
    assert reply.status == 202, reply.raw
    server = wait_server(demo, reply.body["server"]["id"], "ACTIVE")
    assert server is not None and [a["addr"][:7] for a in server["addresses"]["private"]] == ["10.0.0."]
    assert demo.call("DELETE", f"{demo.url('compute')}/servers/{server['id']}").status == 204
    # the admin project owns public and shared: two networks of its own, ambiguous too
    _fault(_create(admin, networks="auto"), 409, ambiguous)


def test_a_server_port_from_boot_to_delete(sessions: tuple[Session, Session, Session]) -> None:
    demo, _demo2, admin = sessions
    private = _net(demo, "private")
    reply = _create(
        demo, networks=[{"uuid": private["id"], "fixed_ip": "10.0.0.77"}], security_groups=[{"name": "default"}]
    )
    assert reply.status == 202, reply.raw
    assert reply.body["server"]["security_groups"] == [{"name": "default"}]
    sid = reply.body["server"]["id"]
    compute, api = demo.url("compute"), admin.url("network") + "/v2.0"
    try:
        server = wait_server(demo, sid, "ACTIVE")
        assert server is not None
        (addr,) = server["addresses"]["private"]
        (port,) = _ports(demo, sid)
        assert addr == {
            "version": 4,
            "addr": "10.0.0.77",
            "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
        }
        assert port["device_owner"] == f"compute:{server['OS-EXT-AZ:availability_zone']}" and port["status"] == "ACTIVE"
        ips = demo.call("GET", f"{compute}/servers/{sid}/ips").body
        assert ips == {"addresses": {"private": [{"version": 4, "addr": "10.0.0.77"}]}}
        assert demo.call("GET", f"{compute}/servers/{sid}/ips/private").body == ips["addresses"]
        _fault(
            demo.call("GET", f"{compute}/servers/{sid}/ips/public"),
            404,
            "Instance is not a member of specified network",
        )
        host = admin.call("GET", f"{compute}/servers/{sid}").body["server"]["OS-EXT-SRV-ATTR:host"]
        assert admin.call("GET", f"{api}/ports/{port['id']}").body["port"]["binding:host_id"] == host
        # the same fixed IP again → Nova refuses it at create
        _fault(
            _create(demo, networks=[{"uuid": private["id"], "fixed_ip": "10.0.0.77"}]),
            400,
            f"Fixed IP address 10.0.0.77 is already in use on instance {sid}.",
        )

        # os-interface: attach on a new network with a fixed IP, list, detach
        net = demo.call("POST", f"{api}/networks", {"network": {"name": "if-" + uuid.uuid4().hex[:6]}}).body["network"]
        demo.call("POST", f"{api}/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.44.0.0/24"}})
        attach = {"interfaceAttachment": {"net_id": net["id"], "fixed_ips": [{"ip_address": "10.44.0.9"}]}}
        attached = demo.call("POST", f"{compute}/servers/{sid}/os-interface", attach)
        assert attached.status == 200, attached.raw
        att = attached.body["interfaceAttachment"]
        assert att["fixed_ips"][0]["ip_address"] == "10.44.0.9" and att["port_state"] == "ACTIVE"
        listed = demo.call("GET", f"{compute}/servers/{sid}/os-interface").body["interfaceAttachments"]
        assert [a["port_id"] for a in listed] == [port["id"], att["port_id"]]
        addresses = demo.call("GET", f"{compute}/servers/{sid}").body["server"]["addresses"]
        assert addresses[net["name"]][0]["addr"] == "10.44.0.9"
        assert demo.call("DELETE", f"{compute}/servers/{sid}/os-interface/{att['port_id']}").status == 202
        assert demo.call("GET", f"{api}/ports/{att['port_id']}").status == 404  # Nova made it: deleted
        _fault(
            demo.call("DELETE", f"{compute}/servers/{sid}/os-interface/{att['port_id']}"),
            404,
            f"Port {att['port_id']} is not attached",
        )
        assert demo.call("DELETE", f"{api}/networks/{net['id']}").status == 204

        # security groups on the server, in Nova's shape
        groups = demo.call("GET", f"{compute}/servers/{sid}/os-security-groups").body["security_groups"]
        assert [g["name"] for g in groups] == ["default"]
        assert {r["group"].get("name") for r in groups[0]["rules"]} == {"default"}
        action = f"{compute}/servers/{sid}/action"
        _fault(
            demo.call("POST", action, {"addSecurityGroup": {"name": "nope"}}),
            404,
            f"Security group nope not found for project {demo.project_id}.",
        )
        assert demo.call("POST", action, {"removeSecurityGroup": {"name": "default"}}).status == 202
        assert demo.call("GET", f"{api}/ports/{port['id']}").body["port"]["security_groups"] == []

        # shelve offload unbinds the port (DOWN), unshelve binds it on the new host
        assert demo.call("POST", action, {"shelve": None}).status == 202
        wait_server(demo, sid, "SHELVED_OFFLOADED")
        assert demo.call("GET", f"{api}/ports/{port['id']}").body["port"]["status"] == "DOWN"
        assert demo.call("POST", action, {"unshelve": None}).status == 202
        wait_server(demo, sid, "ACTIVE")
        assert demo.call("GET", f"{api}/ports/{port['id']}").body["port"]["status"] == "ACTIVE"
    finally:
        demo.call("DELETE", f"{compute}/servers/{sid}")
        wait_server(demo, sid, None)
    assert _ports(demo, sid) == []
    # its fixed IP is free again
    again = demo.call(
        "POST", f"{api}/ports", {"port": {"network_id": private["id"], "fixed_ips": [{"ip_address": "10.0.0.77"}]}}
    )
    assert again.status == 201, again.raw
    demo.call("DELETE", f"{api}/ports/{again.body['port']['id']}")
