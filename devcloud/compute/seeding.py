"""Benchmark helper: `POST /devcloud/seed-servers` (admin) creates N ACTIVE servers at once.

Body: {"project_id" | "project_name": ..., "count": N, "flavor": name or id, "image": name or id,
"name_prefix": "bench"}. The servers skip quota checks and the BUILD transition, are spread round-robin
over the hypervisors, and get Placement allocations only while the host still has room (so Placement
usage never exceeds capacity). Their console listeners start lazily on the first console request.
"""

from __future__ import annotations

from typing import Any

from devcloud.compute import flavors, hosts, servers
from devcloud.compute.common import bad, require_admin
from devcloud.state import now_iso, store
from devcloud.web import Request, Response, json_response, router

MAX_COUNT = 10000


def _project(body: dict[str, Any]) -> str:
    from devcloud import identity

    if body.get("project_id"):
        return str(body["project_id"])
    name = body.get("project_name", "demo")
    project = identity.find_project(name)
    if project is None:
        raise bad(f"Project {name} could not be found.")
    return project["id"]


def _image_id(ref: str | None) -> str:
    from devcloud import image as image_mod

    if not ref:
        ref = "cirros-0.6.3-x86_64-disk"
    img = image_mod.get_image(ref)
    if img is not None:
        return img["id"]
    for candidate in store.table("images").values():
        if candidate.get("name") == ref:
            return candidate["id"]
    raise bad(f"Image {ref} could not be found.")


@router.route("POST", "/devcloud/seed-servers")
def seed_servers(req: Request) -> Response:
    require_admin(req, "devcloud:seed-servers")
    body = req.json_object()
    try:
        count = int(body.get("count", 100))
    except (TypeError, ValueError):
        raise bad("count must be an integer") from None
    if not 1 <= count <= MAX_COUNT:
        raise bad(f"count must be between 1 and {MAX_COUNT}")
    prefix = str(body.get("name_prefix") or "bench")
    project_id = _project(body)
    from devcloud import identity, placement
    from devcloud.compute import scheduler

    users = list(store.table("users").values()) if "users" in store.tables else []
    user_id = body.get("user_id")
    if not user_id:
        owner = identity.find_user(body.get("project_name", "demo")) if not body.get("project_id") else None
        user_id = owner["id"] if owner else (users[0]["id"] if users else req.context["auth"]["user_id"])
    with store.lock:
        flavor_ref = str(body.get("flavor") or "m1.tiny")
        flavor = flavors.table().get(flavor_ref) or next(
            (f for f in flavors.table().values() if f["name"] == flavor_ref), None
        )
        if flavor is None:
            raise bad(f"Flavor {flavor_ref} could not be found.")
        image_id = _image_id(body.get("image"))
        hvs = sorted(hosts.hv_table().values(), key=lambda h: h["int_id"])
        resources = scheduler.resources_for(flavor, False)
        free = {hv["id"]: scheduler.free_capacity(hv["id"]) for hv in hvs}
        ids = []
        now = now_iso()
        for i in range(count):
            hv = hvs[i % len(hvs)]
            s = servers.new_record(
                name=f"{prefix}-{i + 1:05d}",
                project_id=project_id,
                user_id=user_id,
                flavor=flavor,
                image_id=image_id,
                networks="auto",
            )
            s.update(
                host=hv["host"],
                node=hv["hypervisor_hostname"],
                az=hv["availability_zone"],
                vm_state="active",
                task_state=None,
                power_state=servers.RUNNING,
                launched_at=now.replace("Z", ".000000"),
                progress=0,
                addresses=servers.addresses_for("auto"),
                seeded=True,
            )
            room = free[hv["id"]]
            if all(room.get(rc, 0) >= n for rc, n in resources.items()):
                placement.allocate(s["id"], hv["id"], resources, project_id, user_id)
                for rc, n in resources.items():
                    room[rc] = room.get(rc, 0) - n
            servers.table()[s["id"]] = s
            ids.append(s["id"])
        store.touch()
    return json_response(201, {"count": len(ids), "project_id": project_id, "server_ids": ids})
