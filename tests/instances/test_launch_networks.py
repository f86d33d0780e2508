"""Which network choice the launch form offers, from what the cloud has (no cloud needed: the choices are data)."""

from __future__ import annotations

from apps.instances.forms import LaunchForm
from apps.instances.selectors import LaunchChoices, Quota


def _choices(*, service: bool, networks: list[tuple[str, str]]) -> LaunchChoices:
    return LaunchChoices(
        flavors=[],
        images=[],
        snapshots=[],
        volumes=[],
        keypairs=[],
        zones=[],
        networks=networks,
        has_network_service=service,
        has_volume_service=True,
        quota=Quota(instances=10, instances_used=0, cores=20, cores_used=0, ram=51200, ram_used=0),
    )


def test_a_network_service_whose_project_sees_no_network_offers_none_first() -> None:
    # Real Nova with a network service but no network for the project: "auto" needs Neutron's auto-allocated
    # topology, so the form must not send it silently.
    for choices in (_choices(service=True, networks=[]), _choices(service=False, networks=[])):
        form = LaunchForm(choices=choices)
        assert not choices.picks_networks
        assert [v for v, _ in form.fields["network"].choices] == ["none", "auto"]
        assert form.fields["network"].initial == "none"


def test_networks_to_attach_are_listed_when_the_project_has_some() -> None:
    choices = _choices(service=True, networks=[("n1", "private")])
    form = LaunchForm(choices=choices)
    assert choices.picks_networks
    assert list(form.fields["network"].choices) == [("n1", "private")]
