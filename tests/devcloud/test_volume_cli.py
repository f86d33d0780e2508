"""Volumes with the real `openstack` CLI (python-openstackclient) as a person types it: `volume create` (blank,
`--image`, `--snapshot`), `volume snapshot create`, `volume set --size` (available, and in-use from Cinder 3.42),
`volume delete` (refused while attached or with snapshots), `server add volume [--device]` and `server remove
volume` (Cinder's reserved → attaching → in-use → detaching → available), and what Nova and Cinder refuse: a volume
in use attached again, the root volume detached, a volume from a snapshot smaller than it, an extend that shrinks.
Runs on devcloud and on a real cloud alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import Session, cli, cli_json, login, settled
from tests.waiting import wait_until

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud


def _name(prefix: str) -> str:
    return f"t-vcli-{prefix}-{uuid.uuid4().hex[:6]}"


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


@pytest.fixture(scope="module")
def demo(cloud: TestCloud) -> Session:
    return login(cloud.member)


def _status(cloud: TestCloud, who: str, ref: str, wanted: str, *, kind: str = "volume") -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        words = ("volume", "snapshot") if kind == "snapshot" else ("volume",)
        shown = cli_json(cloud, who, *words, "show", ref)
        assert shown["status"] != "error", shown
        return shown if shown["status"] == wanted else None

    return wait_until(check, timeout=120, what=f"{ref} {wanted}")


def _volume_status(demo: Session, volume_id: str, wanted: str) -> dict[str, Any]:
    """Through the API (one call, not a CLI start), for the steps in between."""

    def check() -> dict[str, Any] | None:
        vol = demo.call("GET", f"{demo.url('block-storage')}/volumes/{volume_id}").body["volume"]
        return vol if vol["status"] == wanted else None

    return wait_until(check, timeout=120, what=f"volume {volume_id} {wanted}")


def test_create_blank_from_an_image_and_from_a_snapshot_then_extend_and_delete(cloud: TestCloud, demo: Session) -> None:
    member = cloud.member.name
    blank, from_image, from_snap, snap = _name("blank"), _name("image"), _name("fromsnap"), _name("snap")
    made, imaged = _parallel(
        lambda: cli_json(cloud, member, "volume", "create", "--size", "1", "--description", "scratch", blank),
        lambda: cli_json(cloud, member, "volume", "create", "--size", "1", "--image", cloud.image_name, from_image),
    )
    try:
        assert made["size"] == 1 and str(made["bootable"]).lower() == "false" and made["description"] == "scratch"
        _status(cloud, member, blank, "available")
        shown = _status(cloud, member, from_image, "available")
        assert (
            str(shown["bootable"]).lower() == "true"
            and shown["volume_image_metadata"]["image_name"] == cloud.image_name
        )

        # extend an available volume; a size not larger is Cinder's refusal, the size unchanged
        cli(cloud, member, "volume", "set", "--size", "2", blank)
        assert _status(cloud, member, blank, "available")["size"] == 2
        vid = made["id"]
        refused = cli(cloud, member, "--os-volume-api-version", "3.0", "volume", "set", "--size", "2", vid, check=False)
        assert refused.returncode != 0
        assert cli_json(cloud, member, "volume", "show", blank)["size"] == 2

        # a snapshot of it, and a volume from the snapshot (at least the snapshot's size)
        taken = cli_json(cloud, member, "volume", "snapshot", "create", "--volume", blank, snap)
        assert taken["size"] == 2 and taken["volume_id"] == vid
        _status(cloud, member, snap, "available", kind="snapshot")
        # (the CLI raises a smaller --size to the snapshot's itself: Cinder's refusal, through the API)
        small = {"volume": {"size": 1, "snapshot_id": taken["id"], "name": _name("small")}}
        refused = demo.call("POST", f"{demo.url('block-storage')}/volumes", small)
        assert refused.status == 400 and b"snapshot size" in refused.raw, refused.raw
        copy = cli_json(cloud, member, "volume", "create", "--snapshot", snap, from_snap)
        assert copy["size"] == 2 and copy["snapshot_id"] == taken["id"]
        assert _status(cloud, member, from_snap, "available")["snapshot_id"] == taken["id"]

        # a volume with snapshots cannot be deleted: Cinder says so, and the volume stays
        kept = cli(cloud, member, "volume", "delete", blank, check=False)
        assert kept.returncode != 0 and "have snapshots" in kept.stderr, kept.stderr
        assert cli_json(cloud, member, "volume", "show", blank)["status"] == "available"
        cli(cloud, member, "volume", "snapshot", "delete", snap)
        wait_until(
            lambda: cli(cloud, member, "volume", "snapshot", "show", snap, check=False).returncode != 0,
            timeout=120,
            what="the snapshot deleted",
        )
        cli(cloud, member, "volume", "delete", blank, from_snap, from_image)
        for name in (blank, from_snap, from_image):
            wait_until(
                lambda n=name: cli(cloud, member, "volume", "show", n, check=False).returncode != 0,
                timeout=120,
                what=f"{name} deleted",
            )
    finally:
        cli(cloud, member, "volume", "snapshot", "delete", snap, check=False)
        for name in (from_snap, blank, from_image):
            cli(cloud, member, "volume", "delete", name, check=False)


def test_add_and_remove_a_volume_and_what_nova_refuses(cloud: TestCloud, demo: Session) -> None:
    member = cloud.member.name
    vm, other, data = _name("vm"), _name("other"), _name("data")
    server, second, vol = _parallel(
        lambda: cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                         cloud.small_flavor, "--nic", "none", vm),
        lambda: cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--flavor",
                         cloud.small_flavor, "--nic", "none", other),
        lambda: cli_json(cloud, member, "volume", "create", "--size", "1", data),
    )  # fmt: skip
    try:
        _volume_status(demo, vol["id"], "available")
        settled(demo, server["id"], timeout=120)
        settled(demo, second["id"], timeout=120)
        added = cli_json(cloud, member, "server", "add", "volume", "--device", "/dev/vdc", vm, data)
        assert added["Server ID"] == server["id"] and added["Volume ID"] == vol["id"]
        in_use = _volume_status(demo, vol["id"], "in-use")
        [attachment] = in_use["attachments"]
        assert attachment["server_id"] == server["id"] and attachment["device"].startswith("/dev/")
        listed = cli_json(cloud, member, "server", "volume", "list", vm)
        assert [v["Volume ID"] for v in listed] == [vol["id"]]
        assert cli_json(cloud, member, "volume", "show", data)["status"] == "in-use"

        # attached already: Nova refuses a second server, naming the instance that has it
        refused = cli(cloud, member, "server", "add", "volume", other, data, check=False)
        assert refused.returncode != 0 and "already attached" in refused.stderr, refused.stderr
        assert cli_json(cloud, member, "server", "volume", "list", other) == []
        # attached: Cinder refuses to delete it
        kept = cli(cloud, member, "volume", "delete", data, check=False)
        assert kept.returncode != 0 and "attached" in kept.stderr, kept.stderr

        # extend while attached: refused below Cinder 3.42, done from 3.42 (the volume stays in-use)
        old = cli(cloud, member, "--os-volume-api-version", "3.0", "volume", "set", "--size", "2", data, check=False)
        assert old.returncode != 0
        assert cli_json(cloud, member, "volume", "show", data)["size"] == 1
        cli(cloud, member, "--os-volume-api-version", "3.42", "volume", "set", "--size", "2", data)
        assert _volume_status(demo, vol["id"], "in-use")["size"] == 2

        cli(cloud, member, "server", "remove", "volume", vm, data)
        _volume_status(demo, vol["id"], "available")
        wait_until(
            lambda: cli_json(cloud, member, "server", "volume", "list", vm) == [], timeout=60, what="detached in Nova"
        )
        assert cli_json(cloud, member, "volume", "show", data)["attachments"] == []
    finally:
        cli(cloud, member, "server", "delete", "--wait", vm, other, check=False)
        cli(cloud, member, "volume", "delete", data, check=False)


def test_the_root_volume_of_a_server_cannot_be_removed(cloud: TestCloud, demo: Session) -> None:
    member, vm = cloud.member.name, _name("bfv")
    server = cli_json(cloud, member, "server", "create", "--image", cloud.image_name, "--boot-from-volume", "1",
                      "--delete-on-termination", "--flavor", cloud.small_flavor, "--nic", "none", vm)  # fmt: skip
    try:
        shown = settled(demo, server["id"], timeout=120)
        root = shown["os-extended-volumes:volumes_attached"][0]["id"]
        refused = cli(cloud, member, "server", "remove", "volume", vm, root, check=False)
        assert refused.returncode != 0 and "Cannot detach a root device volume" in refused.stderr, refused.stderr
        assert cli_json(cloud, member, "volume", "show", root)["status"] == "in-use"
    finally:
        cli(cloud, member, "server", "delete", "--wait", vm, check=False)
