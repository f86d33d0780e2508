"""Neutron v2.0 as devcloud serves it, over raw HTTP (status codes and error bodies visible): the version
documents, the seed, filters, `fields=`, paging, policy, validation, ports and IP allocation, security groups,
floating IPs, routers and quotas."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, call, login
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    if not cloud.is_devcloud:
        pytest.skip("checks devcloud's seeded networks")
    return login(cloud.member)


@pytest.fixture(scope="module")
def demo2(cloud: TestCloud) -> Session:
    return login(cloud.member, "demo-2")


@pytest.fixture(scope="module")
def admin(cloud: TestCloud) -> Session:
    return login(cloud.admin)


def _api(s: Session) -> str:
    return s.url("network") + "/v2.0"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.raw[:800]
    return reply.body


def _neutron_error(reply: Any, status: int, kind: str, text: str = "") -> None:
    assert reply.status == status, reply.raw[:800]
    err = reply.body["NeutronError"]
    assert err["type"] == kind and text in err["message"] and err["detail"] == "", err


def _active(fip: dict[str, Any]) -> dict[str, Any] | None:
    return fip if fip["status"] == "ACTIVE" else None


def _net(s: Session, name: str) -> dict[str, Any]:
    nets = _ok(s.call("GET", f"{_api(s)}/networks?name={name}"))["networks"]
    assert len(nets) == 1, nets
    return nets[0]


def _create(s: Session, resource: str, status: int = 201, **attrs: Any) -> Any:
    collection = {"security_group": "security-groups", "security_group_rule": "security-group-rules"}.get(
        resource, resource + "s"
    )
    return s.call("POST", f"{_api(s)}/{collection}", {resource: attrs})


def test_the_catalog_and_the_version_documents(demo: Session) -> None:
    endpoint = demo.url("network")
    assert endpoint.endswith("/networking")
    service = next(s for s in demo.catalog if s["type"] == "network")
    assert service["name"] == "neutron"
    versions = _ok(call("GET", endpoint))  # no token, as Neutron serves it
    assert versions["versions"][0]["id"] == "v2.0" and versions["versions"][0]["status"] == "CURRENT"
    assert versions["versions"][0]["links"][0]["href"].rstrip("/").endswith("/networking/v2.0")
    assert call("GET", endpoint + "/v2.0").status == 401  # the API itself needs a token
    resources = {r["collection"] for r in _ok(demo.call("GET", endpoint + "/v2.0"))["resources"]}
    assert {"networks", "subnets", "ports", "routers", "floatingips", "security-groups"} <= resources
    aliases = {e["alias"] for e in _ok(demo.call("GET", f"{_api(demo)}/extensions"))["extensions"]}
    assert {"security-group", "router", "external-net", "quotas", "port-security", "binding"} <= aliases
    _ok(demo.call("GET", f"{_api(demo)}/extensions/router"))
    _neutron_error(demo.call("GET", f"{_api(demo)}/extensions/nope"), 404, "HTTPNotFound")


def test_the_seed_as_each_project_sees_it(demo: Session, demo2: Session, admin: Session) -> None:
    names = sorted(n["name"] for n in _ok(demo.call("GET", f"{_api(demo)}/networks"))["networks"])
    assert names[:2] == ["private", "public"] and "shared" not in names
    public = _net(demo, "public")
    assert public["router:external"] is True and public["shared"] is False and public["status"] == "ACTIVE"
    assert "provider:network_type" not in public  # admin only
    assert _net(admin, "public")["provider:network_type"] == "flat"
    private = _net(demo, "private")
    assert private["project_id"] == private["tenant_id"] == demo.project_id and private["mtu"] == 1450
    (subnet,) = _ok(demo.call("GET", f"{_api(demo)}/subnets?network_id={private['id']}"))["subnets"]
    assert subnet["cidr"] == "10.0.0.0/24" and subnet["gateway_ip"] == "10.0.0.1" and subnet["enable_dhcp"]
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    # demo-2 also sees the provider network shared with it: two networks Nova's `auto` could pick.
    shared = _net(demo2, "shared")
    assert shared["shared"] is True and shared["router:external"] is False
    # each demo project has a router with its gateway on public and an interface on its private subnet
    (router,) = _ok(demo.call("GET", f"{_api(demo)}/routers"))["routers"]
    assert router["external_gateway_info"]["network_id"] == public["id"]
    assert router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    ports = _ok(demo.call("GET", f"{_api(demo)}/ports?device_id={router['id']}"))["ports"]
    assert [(p["device_owner"], p["fixed_ips"][0]["ip_address"]) for p in ports] == [
        ("network:router_interface", "10.0.0.1")
    ]
    # the default security group with Neutron's default rules
    (sg,) = _ok(demo.call("GET", f"{_api(demo)}/security-groups?name=default"))["security_groups"]
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in sg["security_group_rules"]}
    assert rules == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", sg["id"]),
        ("ingress", "IPv6", sg["id"]),
    }


def test_filters_fields_and_paging(demo: Session) -> None:
    api = _api(demo)
    external = _ok(demo.call("GET", f"{api}/networks?router:external=True"))["networks"]
    assert [n["name"] for n in external] == ["public"]
    both = _ok(demo.call("GET", f"{api}/networks?name=public&name=private&fields=id&fields=name"))["networks"]
    assert sorted(n["name"] for n in both) == ["private", "public"] and all(set(n) == {"id", "name"} for n in both)
    _neutron_error(demo.call("GET", f"{api}/networks?colour=red"), 400, "HTTPBadRequest", "[colour] is invalid")
    created = [_ok(_create(demo, "network", name=_name("page")), 201)["network"] for _ in range(3)]
    try:
        first = _ok(demo.call("GET", f"{api}/networks?limit=2&sort_key=name&sort_dir=asc"))
        assert len(first["networks"]) == 2 and first["networks_links"][0]["rel"] == "next"
        seen = [n["name"] for n in first["networks"]]
        reply = first
        while any(link["rel"] == "next" for link in reply.get("networks_links", [])):
            href = next(link["href"] for link in reply["networks_links"] if link["rel"] == "next")
            reply = _ok(demo.call("GET", href))
            seen += [n["name"] for n in reply["networks"]]
        everything = [n["name"] for n in _ok(demo.call("GET", f"{api}/networks"))["networks"]]
        assert seen == sorted(everything)
        back = _ok(demo.call("GET", f"{api}/networks?limit=1&marker={created[2]['id']}&page_reverse=True"))
        assert [n["id"] for n in back["networks"]] == [created[1]["id"]]
        shown = _ok(demo.call("GET", f"{api}/networks/{created[0]['id']}?fields=name"))["network"]
        assert shown == {"name": created[0]["name"]}
    finally:
        for net in created:
            _ok(demo.call("DELETE", f"{api}/networks/{net['id']}"), 204)


def test_policy_members_cannot_make_shared_or_external_networks_nor_see_others(
    demo: Session, demo2: Session, admin: Session
) -> None:
    for attr in ("shared", "router:external"):
        reply = _create(demo, "network", name=_name("nope"), **{attr: True})
        _neutron_error(reply, 403, "PolicyNotAuthorized", "is disallowed by policy")
    other = _net(demo2, "private")
    _neutron_error(
        demo.call("GET", f"{_api(demo)}/networks/{other['id']}"),
        404,
        "NetworkNotFound",
        f"Network {other['id']} could not be found.",
    )
    _neutron_error(_create(demo, "port", network_id=other["id"]), 404, "NetworkNotFound")
    public = _net(demo, "public")
    _neutron_error(demo.call("DELETE", f"{_api(demo)}/networks/{public['id']}"), 403, "PolicyNotAuthorized")
    # admins see every project's networks
    everyone = _ok(admin.call("GET", f"{_api(admin)}/networks?name=private"))["networks"]
    assert {demo.project_id, demo2.project_id} <= {n["project_id"] for n in everyone}


def test_subnet_validation_and_port_allocation(demo: Session, admin: Session) -> None:
    api = _api(demo)
    net = _ok(_create(demo, "network", name=_name("alloc")), 201)["network"]
    try:
        for cidr, text in (("10.9.0.0/33", "is not a valid IP subnet"), ("banana", "is not a valid IP subnet")):
            _neutron_error(_create(demo, "subnet", network_id=net["id"], cidr=cidr), 400, "HTTPBadRequest", text)
        assert _ok(demo.call("GET", f"{api}/subnets?network_id={net['id']}"))["subnets"] == []
        sub = _ok(_create(demo, "subnet", network_id=net["id"], cidr="10.9.0.0/29", ip_version=4, name="s"), 201)[
            "subnet"
        ]
        assert sub["gateway_ip"] == "10.9.0.1" and sub["allocation_pools"] == [{"start": "10.9.0.2", "end": "10.9.0.6"}]
        _neutron_error(
            _create(demo, "subnet", network_id=net["id"], cidr="10.9.0.0/28"),
            400,
            "HTTPBadRequest",
            "overlaps with another subnet",
        )
        port = _ok(_create(demo, "port", network_id=net["id"], name="p1"), 201)["port"]
        assert port["status"] == "DOWN" and port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.9.0.2"}]
        assert port["mac_address"].startswith("fa:16:3e:") and len(port["security_groups"]) == 1
        assert "binding:host_id" not in port
        assert _ok(admin.call("GET", f"{api}/ports/{port['id']}"))["port"]["binding:host_id"] == ""
        fixed = _ok(_create(demo, "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.9.0.6"}]), 201)["port"]
        assert fixed["fixed_ips"][0]["ip_address"] == "10.9.0.6"
        _neutron_error(
            _create(demo, "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.9.0.6"}]),
            409,
            "IpAddressAlreadyAllocated",
        )
        more = [_ok(_create(demo, "port", network_id=net["id"]), 201)["port"] for _ in range(3)]
        _neutron_error(_create(demo, "port", network_id=net["id"]), 409, "IpAddressGenerationFailure")
        by_ip = _ok(demo.call("GET", f"{api}/ports?fixed_ips=ip_address%3D10.9.0.6"))["ports"]
        assert [p["id"] for p in by_ip] == [fixed["id"]]
        _neutron_error(demo.call("DELETE", f"{api}/subnets/{sub['id']}"), 409, "SubnetInUse")
        _neutron_error(
            _create(demo, "port", network_id=net["id"], **{"binding:host_id": "compute-1"}), 403, "PolicyNotAuthorized"
        )
        for p in [port, fixed, *more]:
            _ok(demo.call("DELETE", f"{api}/ports/{p['id']}"), 204)
    finally:
        _ok(demo.call("DELETE", f"{api}/networks/{net['id']}"), 204)
    _neutron_error(demo.call("GET", f"{api}/networks/{net['id']}"), 404, "NetworkNotFound")


def test_security_groups_and_rules(demo: Session, demo2: Session) -> None:
    api = _api(demo)
    sg = _ok(_create(demo, "security_group", name=_name("web"), description="web"), 201)["security_group"]
    try:
        assert {r["direction"] for r in sg["security_group_rules"]} == {"egress"}
        rule = {
            "security_group_id": sg["id"],
            "direction": "ingress",
            "protocol": "tcp",
            "ethertype": "IPv4",
            "remote_ip_prefix": "0.0.0.0/0",
        }
        ssh = _ok(_create(demo, "security_group_rule", port_range_min=22, port_range_max=22, **rule), 201)
        assert ssh["security_group_rule"]["port_range_min"] == 22
        _neutron_error(
            _create(demo, "security_group_rule", port_range_min=22, port_range_max=22, **rule),
            409,
            "SecurityGroupRuleExists",
        )
        _neutron_error(
            _create(demo, "security_group_rule", port_range_min=1, port_range_max=70000, **rule),
            400,
            "SecurityGroupInvalidPortValue",
            "Invalid value for port 70000.",
        )
        _neutron_error(
            _create(demo, "security_group_rule", port_range_min=90, port_range_max=80, **rule),
            400,
            "SecurityGroupInvalidPortRange",
        )
        _neutron_error(
            _create(demo, "security_group_rule", security_group_id=sg["id"], direction="sideways"),
            400,
            "HTTPBadRequest",
            "Invalid input for direction",
        )
        rules = _ok(demo.call("GET", f"{api}/security-group-rules?security_group_id={sg['id']}"))
        assert len(rules["security_group_rules"]) == 3
        # another project's group is not there for the member
        _neutron_error(demo2.call("GET", f"{api}/security-groups/{sg['id']}"), 404, "SecurityGroupNotFound")
        (default,) = _ok(demo.call("GET", f"{api}/security-groups?name=default"))["security_groups"]
        _neutron_error(
            demo.call("DELETE", f"{api}/security-groups/{default['id']}"), 409, "SecurityGroupCannotRemoveDefault"
        )
    finally:
        _ok(demo.call("DELETE", f"{api}/security-groups/{sg['id']}"), 204)


def test_floating_ips_routers_and_quotas(demo: Session, demo2: Session, admin: Session) -> None:
    api = _api(demo)
    public, private = _net(demo, "public"), _net(demo, "private")
    port = _ok(_create(demo, "port", network_id=private["id"], name=_name("fip-port")), 201)["port"]
    fip = _ok(_create(demo, "floatingip", floating_network_id=public["id"]), 201)["floatingip"]
    try:
        assert fip["status"] == "DOWN" and fip["port_id"] is None and fip["floating_ip_address"].startswith("172.24.4.")
        _neutron_error(
            _create(demo, "floatingip", floating_network_id=private["id"]),
            400,
            "HTTPBadRequest",
            "is not a valid external network",
        )
        fip = _ok(demo.call("PUT", f"{api}/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}}))
        fip = fip["floatingip"]
        # DOWN in the answer, ACTIVE once Neutron's L3 agent has wired it (a moment later), as real Neutron reports
        assert fip["status"] == "DOWN" and fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
        fip = wait_until(
            lambda: _active(_ok(demo.call("GET", f"{api}/floatingips/{fip['id']}"))["floatingip"]),
            what="the floating IP to become ACTIVE",
        )
        assert fip["router_id"] and fip["port_details"]["network_id"] == private["id"]
        # another project's floating IP and port are not there
        _neutron_error(demo2.call("GET", f"{api}/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")
        other_port = _ok(_create(demo2, "port", network_id=_net(demo2, "private")["id"]), 201)["port"]
        _neutron_error(
            demo.call("PUT", f"{api}/floatingips/{fip['id']}", {"floatingip": {"port_id": other_port["id"]}}),
            404,
            "PortNotFound",
        )
        _ok(demo2.call("DELETE", f"{api}/ports/{other_port['id']}"), 204)
        (router,) = _ok(demo.call("GET", f"{api}/routers"))["routers"]
        _neutron_error(demo.call("DELETE", f"{api}/routers/{router['id']}"), 409, "RouterInUse")
        fip = _ok(demo.call("PUT", f"{api}/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}))["floatingip"]
        assert fip["status"] == "ACTIVE" and fip["fixed_ip_address"] is None  # until the agent has undone it
        wait_until(
            lambda: _ok(demo.call("GET", f"{api}/floatingips/{fip['id']}"))["floatingip"]["status"] == "DOWN",
            what="the floating IP to go DOWN",
        )
        # quotas: a member reads its own, the admin sets them, 409 OverQuota beyond
        quota = _ok(demo.call("GET", f"{api}/quotas/{demo.project_id}"))["quota"]
        assert quota["floatingip"] == 50 and quota["security_group"] == 10
        _neutron_error(demo.call("GET", f"{api}/quotas/{demo2.project_id}"), 403, "PolicyNotAuthorized")
        _neutron_error(
            demo.call("PUT", f"{api}/quotas/{demo.project_id}", {"quota": {"floatingip": 1}}),
            403,
            "PolicyNotAuthorized",
        )
        details = _ok(demo.call("GET", f"{api}/quotas/{demo.project_id}/details"))["quota"]
        used = details["floatingip"]["used"]
        assert used >= 1 and details["floatingip"]["limit"] == 50
        _ok(admin.call("PUT", f"{api}/quotas/{demo.project_id}", {"quota": {"floatingip": used}}))
        try:
            _neutron_error(
                _create(demo, "floatingip", floating_network_id=public["id"]),
                409,
                "OverQuota",
                "Quota exceeded for resources: ['floatingip'].",
            )
        finally:
            _ok(admin.call("DELETE", f"{api}/quotas/{demo.project_id}"), 204)
    finally:
        _ok(demo.call("DELETE", f"{api}/floatingips/{fip['id']}"), 204)
        _ok(demo.call("DELETE", f"{api}/ports/{port['id']}"), 204)
