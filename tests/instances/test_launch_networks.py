"""Which network choice the launch form offers, from what the cloud has (no cloud needed: the choices are data)."""

from __future__ import annotations

from django.http import QueryDict

from apps.instances.cli import launch_command
from apps.instances.forms import LaunchForm
from apps.instances.launch import FlavorChoice, ImageChoice, LaunchChoices, Quota
from apps.networks.selectors import Network, SecurityGroup, Subnet

PRIVATE = Network(
    id="n1",
    name="private",
    subnets=(Subnet("s1", "private-subnet", "10.0.0.0/24", 4),),
    shared=False,
    external=False,
    own=True,
)
SHARED = Network(
    id="n2", name="shared", subnets=(Subnet("s2", "", "192.168.233.0/24", 4),), shared=True, external=False, own=False
)
PUBLIC = Network(
    id="n3", name="public", subnets=(Subnet("s3", "", "172.24.4.0/24", 4),), shared=False, external=True, own=False
)
GROUPS = (SecurityGroup("g1", "default", ""), SecurityGroup("g2", "web", ""))


def _choices(*, service: bool, networks: list[Network] | tuple[Network, ...], groups=()) -> LaunchChoices:
    return LaunchChoices(
        flavors=[FlavorChoice(id="f1", name="m1.tiny", vcpus=1, ram=512, disk=1)],
        images=[ImageChoice(id="i1", name="cirros", min_disk=0, min_ram=0, size=0, is_snapshot=False)],
        snapshots=[],
        volumes=[],
        keypairs=[],
        zones=[],
        networks=tuple(networks),
        security_groups=tuple(groups),
        has_network_service=service,
        has_volume_service=True,
        quota=Quota(instances=10, instances_used=0, cores=20, cores_used=0, ram=51200, ram_used=0),
    )


def _post(**extra: list[str] | str) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update({"name": "t-net", "count": "1", "source": "image", "image_id": "i1", "flavor_id": "f1"})
    for key, value in extra.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data


def test_a_network_service_whose_project_sees_no_network_offers_none_first() -> None:
    # Real Nova with a network service but no network for the project: "auto" needs Neutron's auto-allocated
    # topology, so the form must not send it silently. An external network alone is no network to put a NIC on.
    for choices in (
        _choices(service=True, networks=[]),
        _choices(service=False, networks=[]),
        _choices(service=True, networks=[PUBLIC]),
    ):
        form = LaunchForm(choices=choices)
        assert not choices.picks_networks
        assert [v for v, _ in form.fields["network"].choices] == ["none", "auto"]
        assert form.fields["network"].initial == "none"
        assert "security_groups" not in form.fields


def test_networks_to_attach_are_listed_when_the_project_has_some() -> None:
    choices = _choices(service=True, networks=[PRIVATE])
    form = LaunchForm(choices=choices)
    assert choices.picks_networks
    assert [v for v, _ in form.fields["network"].choices] == ["n1"]


def test_the_one_usable_network_is_chosen_and_the_external_one_cannot_be() -> None:
    form = LaunchForm(choices=_choices(service=True, networks=[PRIVATE, PUBLIC], groups=GROUPS))
    assert form.fields["network"].initial == ["n1"]
    rows = {net.name: (nic, reason) for net, nic, reason in form.network_rows()}
    assert rows["private"] == (1, "")
    assert rows["public"][0] == 0 and rows["public"][1].startswith("external")
    assert form.fields["security_groups"].initial == ["g1"]  # the project's `default`, by id
    assert "--network private --security-group default" in launch_command(form)
    # The external network sent anyway (a crafted POST) is refused next to the field.
    posted = LaunchForm(_post(network="n3"), choices=_choices(service=True, networks=[PRIVATE, PUBLIC]))
    assert not posted.is_valid() and "network" in posted.errors


def test_two_usable_networks_and_none_chosen_is_a_message_on_the_field() -> None:
    choices = _choices(service=True, networks=[PRIVATE, SHARED, PUBLIC], groups=GROUPS)
    assert LaunchForm(choices=choices).fields["network"].initial == []
    form = LaunchForm(_post(security_groups="g1"), choices=choices)
    assert not form.is_valid()
    assert form.errors["network"] == [
        "This project can use several networks: choose the one (or ones) for the instance."
    ]
    assert list(form.errors) == ["network"]


def test_the_networks_and_groups_chosen_go_to_nova_in_order() -> None:
    choices = _choices(service=True, networks=[PRIVATE, SHARED, PUBLIC], groups=GROUPS)
    form = LaunchForm(_post(network=["n2", "n1"], security_groups=["g2", "g1"]), choices=choices)
    assert form.is_valid(), form.errors
    launch = form.launch_request()
    assert launch.networks == ["n2", "n1"]
    assert launch.security_groups == ["g2", "g1"]  # by id: Neutron allows two groups of one name
    assert launch.params("t-net")["security_groups"] == ["g2", "g1"]
    cli = launch_command(form)
    assert "--network shared --network private --security-group web --security-group default" in cli


def test_groups_of_one_name_are_two_choices_told_apart_by_id() -> None:
    groups = (*GROUPS, SecurityGroup("g3abcdef-1234", "web", "another"))
    choices = _choices(service=True, networks=[PRIVATE], groups=groups)
    form = LaunchForm(choices=choices)
    assert form.fields["security_groups"].choices == [
        ("g1", "default"),
        ("g2", "web (g2)"),
        ("g3abcdef-1234", "web (g3abcdef)"),
    ]
    assert form.fields["security_groups"].initial == ["g1"]
    form = LaunchForm(_post(network=["n1"], security_groups=["g1", "g3abcdef-1234"]), choices=choices)
    assert form.is_valid(), form.errors
    assert form.launch_request().security_groups == ["g1", "g3abcdef-1234"]
    # The CLI names a group whose name is its own, and gives the id of one whose name is not (the CLI, like
    # Nova, refuses an ambiguous name).
    assert "--security-group default --security-group g3abcdef-1234" in launch_command(form)


def test_the_nics_follow_the_order_the_networks_were_ticked_in() -> None:
    # The page's script keeps the order of ticking in network_order; the browser sends the boxes in listed order.
    choices = _choices(service=True, networks=[PRIVATE, SHARED, PUBLIC], groups=GROUPS)
    form = LaunchForm(_post(network=["n1", "n2"], network_order="n2,n1"), choices=choices)
    assert form.is_valid(), form.errors
    assert form.launch_request().networks == ["n2", "n1"]
    assert [(net.id, nic) for net, nic, _ in form.network_rows()] == [("n1", 2), ("n2", 1), ("n3", 0)]
    assert "--network shared --network private" in launch_command(form)
    # A stale or forged order never adds or drops a network: only what is ticked counts.
    form = LaunchForm(_post(network=["n1"], network_order="n3,n2,n1,x"), choices=choices)
    assert form.is_valid(), form.errors
    assert form.launch_request().networks == ["n1"]


def test_the_launch_sends_network_and_group_ids_to_nova() -> None:
    from types import SimpleNamespace

    from apps.instances.operations import launch_attrs

    params = {"name": "t-net", "flavor_id": "f1", "source_type": "image", "image_id": "i1"}
    ctx = SimpleNamespace(params={**params, "networks": ["n2", "n1"], "security_groups": ["g2"]})
    attrs = launch_attrs(ctx, "op-1", True)
    assert attrs["networks"] == [{"uuid": "n2"}, {"uuid": "n1"}]
    assert attrs["security_groups"] == [{"name": "g2"}]  # Nova's `name` takes a group's name or id
    # Without a network (a cloud without Neutron) no group is sent: Nova has no port to put it on.
    ctx = SimpleNamespace(params={**params, "networks": "none", "security_groups": ["web"]})
    assert "security_groups" not in launch_attrs(ctx, "op-1", True)


def _networks_card(choices: LaunchChoices, data: QueryDict | None = None) -> str:
    from django.template.loader import render_to_string

    form = LaunchForm(data, choices=choices)
    if data is not None:
        form.is_valid()
    return render_to_string("instances/launch.html#launch-networks", {"form": form, "choices": choices})


def test_the_networks_card_says_why_it_offers_only_none_or_auto() -> None:
    without = _networks_card(_choices(service=False, networks=[]))
    assert "This cloud has no Networking service (Neutron) in its catalog" in without
    assert 'value="none"' in without and 'value="auto"' in without
    only_external = _networks_card(_choices(service=True, networks=[PUBLIC]))
    assert "This project has no network an instance can be put on" in only_external
    assert 'name="network" id="network-n3"' not in only_external


def test_the_networks_card_lists_subnets_marks_and_the_message() -> None:
    choices = _choices(service=True, networks=[PRIVATE, SHARED, PUBLIC], groups=GROUPS)
    html = _networks_card(choices, _post())
    assert "10.0.0.0/24 (private-subnet)" in html and "192.168.233.0/24" in html
    assert 'id="network-n3" value="n3" disabled' in html and "external: reached through a router" in html
    assert 'id="id_network-error" role="alert">This project can use several networks' in html


def test_the_launch_operation_page_gives_the_same_networks_and_groups_to_the_cli() -> None:
    from apps.operations.cli import cli_command
    from apps.operations.models import Operation

    params = {"name": "t-net", "flavor_id": "f1", "source_type": "image", "image_id": "i1"}
    op = Operation(kind="server.launch", params={**params, "networks": ["n2", "n1"], "security_groups": ["web"]})
    assert "--network n2 --network n1 --security-group web" in cli_command(op)
    assert "--nic none" in cli_command(Operation(kind="server.launch", params={**params, "networks": "none"}))
