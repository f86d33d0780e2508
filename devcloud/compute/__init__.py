"""Nova v2.1 for devcloud: servers and actions, flavors, keypairs, hypervisors, services, availability zones,
limits and quotas, remote consoles, a scheduler over Placement, and the state-transition thread.

Importing the package registers its routes. `seed(fresh)` creates flavors and the fake hypervisors (and
their Placement providers); `start()` starts the transition thread and the consoles of running servers.
"""

from __future__ import annotations

from typing import Any

from devcloud.compute import (  # noqa: F401 - importing registers the routes
    actions,
    attachments,
    consoles,
    flavors,
    hosts,
    images,
    keypairs,
    limits,
    microversions,
    networking,
    seeding,
    servergroups,
    servers,
    transitions,
    usage,
)
from devcloud.compute.common import base_url
from devcloud.web import Request, Response, json_response, router

router.before.append(microversions.before_hook)
router.after.append(microversions.after_hook)


def seed(fresh: bool) -> None:
    flavors.seed(fresh)
    hosts.seed(fresh)


def start() -> None:
    transitions.start()
    consoles.start()


def hypervisors() -> list[dict[str, Any]]:
    """The README contract: each with id (UUID), hypervisor_hostname, service_host, availability_zone."""
    return hosts.hypervisors()


@router.route("GET", "/compute")
def versions(req: Request) -> Response:
    return json_response(200, {"versions": microversions.version_list(base_url(req))})


@router.route("GET", "/compute/v2")
def version_v20(req: Request) -> Response:
    """The legacy v2.0 API's version document (devcloud serves no v2.0 API below it: those paths answer 404)."""
    return json_response(200, {"version": microversions.version_doc(base_url(req), legacy=True)})


@router.route("GET", "/compute/v2.1")
def version_v21(req: Request) -> Response:
    return json_response(200, {"version": microversions.version_doc(base_url(req))})
