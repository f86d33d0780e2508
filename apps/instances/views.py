"""Instances: list (Nova-side paging, filters, live rows), detail (overview, console log, action log), launch,
and actions (each an operation). Views parse the request, call a selector or a service, and render."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.decorators import login_required
from apps.accounts.http import AuthedRequest, safe_next
from apps.accounts.templatetags.stratus import mib
from apps.cloud.errors import BadRequest, CloudError, NotFound, OverQuota, Unavailable
from apps.cloud.middleware import log_cloud_error
from apps.instances import cli, forms, selectors, services
from apps.instances import launch as offers  # the forms' choices (the view `launch` has the module's name)
from apps.instances.cli import action_command, launch_command
from apps.networks import selectors as network_selectors
from apps.operations.selectors import active_on, active_operations, in_flux, tracker_state
from apps.servergroups import selectors as servergroup_selectors
from dashboard.memo import fixed_reverse, per_language

WATCH_KEY = "instances_watch_until"
LOG_LINES = (50, 200, 1000)


@per_language
def _action_text() -> dict[str, tuple[str, str]]:
    return {
        "start": (_("Starting %(name)s…"), ""),
        "stop": (_("Stopping %(name)s…"), _("Stop %(name)s? Its processes end and it stops using CPU.")),
        "reboot_soft": (_("Rebooting %(name)s…"), _("Reboot %(name)s gracefully?")),
        "reboot_hard": (_("Hard rebooting %(name)s…"), _("Hard reboot %(name)s? It is powered off and on at once.")),
        "pause": (_("Pausing %(name)s…"), ""),
        "unpause": (_("Unpausing %(name)s…"), ""),
        "suspend": (_("Suspending %(name)s…"), ""),
        "resume": (_("Resuming %(name)s…"), ""),
        "lock": (_("Locking %(name)s…"), ""),
        "unlock": (_("Unlocking %(name)s…"), ""),
        "delete": (_("Deleting %(name)s…"), _("Delete %(name)s? This cannot be undone.")),
        "rename": (_("Renaming %(name)s…"), ""),
        "resize": (_("Resizing %(name)s…"), ""),
        "confirm_resize": (_("Confirming the resize of %(name)s…"), ""),
        "revert_resize": (_("Reverting the resize of %(name)s…"), _("Revert %(name)s to its previous flavor?")),
        "rebuild": (_("Rebuilding %(name)s…"), _("Rebuild %(name)s? Its disk is replaced by the image.")),
        "snapshot": (_("Creating a snapshot of %(name)s…"), ""),
        "shelve": (
            _("Shelving %(name)s…"),
            _("Shelve %(name)s? It is powered off and its disk saved as an image; unshelve it to run it again."),
        ),
        "unshelve": (_("Unshelving %(name)s…"), ""),
        "shelve_offload": (
            _("Offloading %(name)s…"),
            _("Offload %(name)s? It leaves its host and stops using vCPUs and RAM."),
        ),
        "rescue": (
            _("Starting the rescue mode of %(name)s…"),
            _("Rescue %(name)s? It restarts from a rescue image, with its own disk attached."),
        ),
        "unrescue": (_("Leaving the rescue mode of %(name)s…"), _("Leave the rescue mode of %(name)s?")),
        "backup": (_("Backing up %(name)s…"), ""),
    }


@per_language
def _action_labels() -> dict[str, str]:
    return {
        "start": _("Start"),
        "stop": _("Stop"),
        "reboot_soft": _("Soft reboot"),
        "reboot_hard": _("Hard reboot"),
        "pause": _("Pause"),
        "unpause": _("Unpause"),
        "suspend": _("Suspend"),
        "resume": _("Resume"),
        "lock": _("Lock"),
        "unlock": _("Unlock"),
        "delete": _("Delete"),
        "rename": _("Rename"),
        "resize": _("Resize"),
        "confirm_resize": _("Confirm resize"),
        "revert_resize": _("Revert resize"),
        "rebuild": _("Rebuild"),
        "snapshot": _("Create snapshot"),
        "shelve": _("Shelve"),
        "unshelve": _("Unshelve"),
        "shelve_offload": _("Shelve offload"),
        "rescue": _("Rescue"),
        "unrescue": _("Unrescue"),
        "backup": _("Back up"),
    }


ACTION_ORDER = [
    "start",
    "stop",
    "reboot_soft",
    "reboot_hard",
    "confirm_resize",
    "revert_resize",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "snapshot",
    "backup",
    "shelve",
    "shelve_offload",
    "unshelve",
    "rescue",
    "unrescue",
    "rename",
    "resize",
    "rebuild",
    "lock",
    "unlock",
    "delete",
]
FORM_ACTIONS = {"rename", "resize", "rebuild", "snapshot", "lock", "unshelve", "rescue", "backup"}
DANGER_ACTIONS = {"delete", "reboot_hard", "rebuild", "revert_resize", "shelve", "shelve_offload", "rescue"}
BULK_ACTIONS = [
    "start",
    "stop",
    "reboot_soft",
    "reboot_hard",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "shelve",
    "unshelve",
    "delete",
]


def _creds(request: AuthedRequest) -> Any:
    return request.creds


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _console_url(server_id: str) -> str:
    return fixed_reverse("consoles:open", _PLACEHOLDER).replace(_PLACEHOLDER, server_id)


def _active_operations(request: AuthedRequest, ids: list[str]) -> dict[str, Any]:
    return active_operations(creds=_creds(request), target_type="server", target_ids=ids)


def _watching(request: AuthedRequest) -> bool:
    """Keep live updates on a while after an action, and while the user has server operations in progress
    (a launch has no row to watch until Nova creates the server)."""
    if float(request.session.get(WATCH_KEY, 0) or 0) > time.time():
        return True
    creds = _creds(request)
    active, _unannounced = tracker_state(creds=creds)  # no query while the user has nothing in progress
    return bool(active) and any(op.target_type == "server" for op in in_flux(creds=creds))


def _watch(request: HttpRequest) -> None:
    request.session[WATCH_KEY] = services.watch_until()


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _row_actions(
    server: selectors.Server, *, is_admin: bool, texts: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The actions Nova allows on this server now, with their URL, confirmation and CLI command."""
    texts = texts or {"labels": _action_labels(), "text": _action_text(), "urls": _action_urls()}
    allowed = server.allowed(is_admin=is_admin)
    out = []
    for name in ACTION_ORDER:
        if name not in allowed:
            continue
        question = texts["text"][name][1]
        out.append(
            {
                "name": name,
                "label": texts["labels"][name],
                "form": name in FORM_ACTIONS,
                "danger": name in DANGER_ACTIONS,
                "confirm": question % {"name": server.name} if question else "",
                "url": texts["urls"][name].replace(_PLACEHOLDER, server.id),
                "cli": action_command(name, server),
            }
        )
    return out


def _action_urls() -> dict[str, str]:
    return {name: fixed_reverse("instances:action", _PLACEHOLDER, name) for name in ACTION_ORDER}


def _rows(
    request: AuthedRequest, servers: list[selectors.Server], ops: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    creds = _creds(request)
    if ops is None:
        ops = _active_operations(request, [s.id for s in servers]) if servers else {}
    texts = {"labels": _action_labels(), "text": _action_text(), "urls": _action_urls()}
    console = _console_url(_PLACEHOLDER)
    return [
        {
            "server": s,
            "op": ops.get(s.id),
            "actions": _row_actions(s, is_admin=creds.is_admin, texts=texts),
            "console_url": console.replace(_PLACEHOLDER, s.id) if console and s.status == "ACTIVE" else "",
        }
        for s in servers
    ]


# At most this many rows are read again by id in one poll (one Nova GET each, up to 8 at once).
POLL_REFRESH_MAX = 50


def _poll_url(
    *,
    since: str,
    flux: list[str],
    seen: list[str],
    insert: bool,
    at: list[str] | None = None,
    busy: list[str] | None = None,
) -> str:
    query = {
        "since": since,
        "flux": ",".join(flux),
        "seen": ",".join(seen),
        "at": ",".join(at or []),
        "busy": ",".join(busy or []),
    }
    if insert:
        query["insert"] = "1"
    return reverse("instances:poll") + "?" + urlencode(query)


# --- list ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def server_list(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    filters = selectors.ServerFilters.from_query(request.GET, is_admin=creds.is_admin)
    try:
        page = selectors.list_servers(creds, filters)
    except (BadRequest, NotFound):
        if not filters.marker:
            raise
        # A bookmarked page whose first server is gone: Nova refuses the marker; start from the first page.
        messages.warning(request, _("That page no longer exists; here is the first page."))
        return HttpResponseRedirect("?" + urlencode(filters.query(marker="")))
    rows = _rows(request, page.servers)
    flux = [r["server"].id for r in rows if r["server"].in_flux]
    busy = bool(flux) or any(r["op"] for r in rows)
    insert = not filters.marker and not filters.active and filters.sort == "created" and filters.dir == "desc"
    polling = busy or _watching(request)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "statuses": selectors.STATUSES,
        "sorts": selectors.SORTS,
        "page_sizes": selectors.PAGE_SIZES,
        "bulk_actions": [(a, _action_labels()[a]) for a in BULK_ACTIONS],
        "polling": polling,
        "poll_url": _poll_url(
            since=page.since or "",
            flux=flux,
            seen=[s.id for s in page.servers],
            insert=insert,
            at=[s.fingerprint for s in page.servers if page.since and s.updated_raw == page.since],
            busy=[r["server"].id for r in rows if r["op"]],
        ),
        "first_url": "?" + urlencode(filters.query(marker="")),
        "next_url": "?" + urlencode(_next_query(filters, page)) if page.has_next else "",
        "show_filters": filters.active or request.GET.get("filters") == "1",
        "filter_options": _filter_options(request) if (filters.active or request.GET.get("filters") == "1") else None,
        "list_cli": _list_cli(filters),
        "sort": _sort_links(filters),
    }
    if _htmx(request) and request.headers.get("HX-Target") == "server-table":
        return render(request, "instances/list.html#server-table", context)
    return render(request, "instances/list.html", context)


def _next_query(filters: selectors.ServerFilters, page: selectors.ServerPage) -> dict[str, str]:
    if page.sorted_as_asked:
        return filters.query(marker=page.next_marker)
    return filters.query(marker=page.next_marker, sort="created", dir="desc")  # the order the page was shown in


def _sort_links(filters: selectors.ServerFilters) -> dict[str, dict[str, Any]]:
    links = {}
    for key in selectors.SORTS:
        active = filters.sort == key
        direction = ("asc" if filters.dir == "desc" else "desc") if active else ("desc" if key == "created" else "asc")
        links[key] = {
            "url": "?" + urlencode(filters.query(sort=key, dir=direction, marker="")),
            "active": active,
            "arrow": (" ↑" if filters.dir == "asc" else " ↓") if active else "",
            "aria": "ascending" if filters.dir == "asc" else "descending",
        }
    return links


def _list_cli(filters: selectors.ServerFilters) -> str:
    parts = ["openstack server list --long"]
    q = filters.nova_query()
    if "name" in q:
        parts.append(f"--name {forms.shell_quote(q['name'])}")
    for key in ("ip", "ip6"):
        if key in q:
            parts.append(f"--{key} {forms.shell_quote(q[key])}")
    if filters.status:
        parts.append(f"--status {filters.status}")
    if filters.flavor:
        parts.append(f"--flavor {forms.shell_quote(filters.flavor)}")
    if filters.image:
        parts.append(f"--image {forms.shell_quote(filters.image)}")
    if filters.az:
        parts.append(f"--availability-zone {forms.shell_quote(filters.az)}")
    if filters.host:
        parts.append(f"--host {forms.shell_quote(filters.host)}")
    if filters.tags:  # every one of them (Nova's `tags`); `tags-any` has no option in the openstack CLI
        parts[0] = "openstack --os-compute-api-version 2.26 server list --long"
        parts.extend(f"--tags {forms.shell_quote(t)}" for t in filters.tags.split(","))
    parts.append(f"--sort-column {selectors.SORTS[filters.sort]} --sort-ascending" if filters.dir == "asc" else "")
    parts.append(f"--limit {filters.limit}")
    if filters.marker:
        parts.append(f"--marker {filters.marker}")
    return " ".join(p for p in parts if p)


def _filter_options(request: AuthedRequest) -> dict[str, Any]:
    """Choices for the flavor, image and zone filters (short-cached names; asked only when filters are open)."""
    creds = _creds(request)
    return {
        "flavors": offers.list_flavors(creds),
        "images": selectors.filter_images(creds),
        "zones": selectors.list_zones(creds),
        "tags": selectors.tag_suggestions(creds),
    }


@login_required
@require_GET
def filters_panel(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    filters = selectors.ServerFilters.from_query(request.GET, is_admin=creds.is_admin)
    return render(
        request,
        "instances/list.html#filter-fields",
        {"filters": filters, "filter_options": _filter_options(request), "statuses": selectors.STATUSES},
    )


@login_required
@require_GET
def poll(request: AuthedRequest) -> HttpResponse:
    """Live rows: Nova's `changes-since` for what changed; out-of-band swaps of just those rows; 286 when calm.

    The poll URL carries the cursor (`since`, Nova's clock); the fingerprints of the rows already shown as they
    were at that second (`at`: Nova's timestamps have second precision, and a row can change twice in one);
    the rows on the page (`seen`), those in a Nova transition (`flux`) and those shown with an operation in
    progress (`busy`). The operations are looked up on every poll (a database read): a row whose operation
    started or ended since the last answer is drawn again even when Nova reports no change (an operation often
    ends after the server's last change: its worker sees the end state later).
    """
    since = (request.GET.get("since") or "").strip()
    flux = {i for i in (request.GET.get("flux") or "").split(",") if i}
    at = {i for i in (request.GET.get("at") or "").split(",") if i}
    seen = [i for i in (request.GET.get("seen") or "").split(",") if i]
    shown_busy = {i for i in (request.GET.get("busy") or "").split(",") if i}
    insert = request.GET.get("insert") == "1"
    try:
        if since:
            changed = selectors.changed_servers(_creds(request), since=since)
        else:
            # Nothing was on the page: look at the newest servers instead.
            changed = selectors.list_servers(_creds(request), selectors.ServerFilters()).servers
    except Unavailable as exc:
        return _poll_paused(request, exc)
    # Only what is new since the last answer (a server shown at the cursor's second is not sent again).
    fresh = [s for s in changed if s.updated_raw > since or (s.updated_raw == since and s.fingerprint not in at)]
    seen_set = set(seen)
    updates = [s for s in fresh if s.id in seen_set and not s.deleted]
    removed = [s.id for s in fresh if s.id in seen_set and s.deleted]
    added = [s for s in fresh if s.id not in seen_set and not s.deleted] if insert else []
    added.sort(key=lambda s: s.created.isoformat() if s.created else "")
    new_seen = [s.id for s in reversed(added)] + [i for i in seen if i not in removed]
    ops = _active_operations(request, new_seen)
    # Rows Nova did not change whose operation started or ended since they were drawn: read them again.
    drawn = {s.id for s in updates} | {s.id for s in added}
    stale = [i for i in new_seen if i not in drawn and (i in ops) != (i in shown_busy)]
    # The ids come from the URL: at most POLL_REFRESH_MAX such reads per poll (the rest keep the state they were
    # shown with, so that the next poll reads them), lest a crafted URL hold this thread for minutes.
    later = set(stale[POLL_REFRESH_MAX:])
    stale = stale[:POLL_REFRESH_MAX]
    try:
        refreshed, gone = selectors.servers_by_id(_creds(request), stale)
    except Unavailable as exc:
        return _poll_paused(request, exc)
    updates += refreshed
    removed += gone
    new_seen = [i for i in new_seen if i not in gone]
    rows_by_id = {r["server"].id: r for r in _rows(request, updates + added, ops)}
    for server in updates + added:
        if server.in_flux:
            flux.add(server.id)
        else:
            flux.discard(server.id)
    flux -= set(removed)
    new_since = max([since, *(s.updated_raw for s in changed)])
    new_at = {s.fingerprint for s in changed if s.updated_raw == new_since} | (at if new_since == since else set())
    busy = [i for i in new_seen if (i in shown_busy if i in later else i in ops)]
    keep_polling = bool(flux) or bool(ops) or _watching(request)
    context = {
        "updates": [rows_by_id[s.id] for s in updates],
        "added": [rows_by_id[s.id] for s in reversed(added)],
        "removed": removed,
        "polling": keep_polling,
        "poll_url": _poll_url(
            since=new_since, flux=sorted(flux), seen=new_seen, insert=insert, at=sorted(new_at), busy=busy
        ),
    }
    response = render(request, "instances/list.html#poll-response", context)
    if added and not seen:
        # The page showed the empty state: load it again to show the table.
        response["HX-Refresh"] = "true"
    if not keep_polling:
        response.status_code = 286
    return response


def _poll_paused(request: HttpRequest, exc: Unavailable) -> HttpResponse:
    """Say it once and stop polling (286) rather than a toast every two seconds; a reload resumes."""
    log_cloud_error(request, exc)
    response = render(request, "instances/list.html#poll-paused", {"error": exc})
    response.status_code = 286
    return response


@login_required
@require_POST
def bulk(request: AuthedRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    picked = request.POST.getlist("server")
    back = safe_next(request, reverse("instances:list"))
    if action not in BULK_ACTIONS:
        messages.error(request, _("Choose an action for the selected instances."))
        return HttpResponseRedirect(back)
    targets: list[tuple[str, str]] = []
    for value in picked:
        server_id, _sep, name = value.partition("|")
        if server_id:
            targets.append((server_id, name or server_id))
    if not targets:
        messages.error(request, _("Select at least one instance."))
        return HttpResponseRedirect(back)
    try:
        services.bulk_action(creds=_creds(request), action=action, targets=targets)
    except services.DispatchError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    _watch(request)
    label = _action_labels()[action]
    messages.success(
        request,
        _("%(action)s: %(n)s instances queued.") % {"action": label, "n": len(targets)},
    )
    return HttpResponseRedirect(back)


# --- detail ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def server_detail(request: AuthedRequest, server_id: str) -> HttpResponse:
    creds = _creds(request)
    # What is in progress is read before the server: an operation that ends between the two reads is then seen
    # done in the server (and its ports), never missed by both, which would stop the polling on the old state.
    ops = _active_operations(request, [server_id])
    server_ops = active_on(creds=creds, target_type="server", target_ids=[server_id]) if ops else []
    try:
        server = selectors.get_server(creds, server_id)
    except NotFound:
        if _htmx(request) and request.headers.get("HX-Target") == "server-head":
            # Deleted while the page was open: the live header takes the user back to the list, once.
            messages.info(request, _("This instance no longer exists."))
            response = HttpResponse(status=200)
            response["HX-Redirect"] = reverse("instances:list")
            return response
        raise
    tab = request.GET.get("tab", "overview")
    if tab not in ("overview", "log", "actions"):
        tab = "overview"
    context: dict[str, Any] = {
        "server": server,
        "op": ops.get(server.id),
        "tab": tab,
        "actions": _row_actions(server, is_admin=creds.is_admin),
        "console_url": _console_url(server.id) if server.status in ("ACTIVE",) else "",
        "is_admin": creds.is_admin,
        "polling": server.in_flux or bool(ops),
        "rescue_password": server.status == "RESCUE"
        and services.rescue_password_waiting(creds=creds, server_id=server.id),
    }
    shows_overview = (_shown_tab(request) if request.headers.get("HX-Target") == "server-head" else tab) == "overview"
    if shows_overview:
        context.update(_network_context(request, server, server_ops))
        context.update(_volume_context(request, server, server_ops))
        context["server_group"] = servergroup_selectors.group_of_server(creds, server.server_groups)
        context.update(_metadata_context(request, server, server_ops))
        context["polling"] = (
            context["polling"]
            or context.get("meta_in_flux", False)
            or context.get("network_in_flux", False)
            or context.get("security_in_flux", False)
            or context.get("volumes_in_flux", False)
        )
    if tab == "log":
        lines = _log_lines(request)
        context.update(
            {
                "lines": lines,
                "line_choices": LOG_LINES,
                "log": selectors.console_log(creds, server_id, lines=lines),
                "log_cli": f"openstack console log show --lines {lines} {server.id}",
            }
        )
    elif tab == "actions":
        context.update(
            {
                "instance_actions": selectors.instance_actions(creds, server_id),
                "actions_cli": f"openstack server event list --long {server.id}",
            }
        )
    if _htmx(request):
        target = request.headers.get("HX-Target", "")
        if target == "server-head":
            # The live header also redraws the Overview (status, power state, the actions' CLI) when the person
            # is on that tab (the browser's address says which: tabs switch with hx-push-url).
            context["tab"] = _shown_tab(request)
            response = render(request, "instances/detail.html#head-poll", context)
            if not context["polling"]:
                response.status_code = 286
            return response
        if target == "tab-body":
            return render(request, "instances/detail.html#tab-body", context)
    return render(request, "instances/detail.html", context)


# --- interfaces and floating IPs (Nova's os-interface; Neutron's ports and floating IPs) -------------------


def _network_context(request: AuthedRequest, server: selectors.Server, ops: list[Any]) -> dict[str, Any]:
    """The Interfaces and Floating IPs sections: nothing without Neutron in the catalog; a failing Neutron is said in
    the sections (the rest of the page stays)."""
    creds = _creds(request)
    if not network_selectors.has_network_service(creds):
        return {"has_network": False}
    try:
        networking = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id)
    except CloudError as exc:
        if exc.status < 500:
            raise
        log_cloud_error(request, exc)
        return {"has_network": True, "networking_error": exc}
    changeable = server.vm_state in ("active", "paused", "stopped") and not server.task_state
    if server.locked and not creds.is_admin:
        changeable = False
    interfaces = [
        {
            "port": port,
            "floating": networking.floating_ips_of(port.id),
            "detach_url": reverse("instances:detach_interface", args=[server.id, port.id]),
            "cli": cli.remove_network_command(server, port.network_name),
        }
        for port in networking.ports
    ]
    floating = [
        {
            "fip": fip,
            "url": reverse("instances:remove_floating_ip", args=[server.id, fip.id]),
            "cli": cli.remove_floating_ip_command(server, fip.address),
            "cli_release": cli.remove_floating_ip_command(server, fip.address, release=True),
        }
        for fip in networking.floating_ips
    ]
    return {
        "has_network": True,
        "networking": networking,
        **_security_context(server, networking, ops),
        "interfaces": interfaces,
        "floating_rows": floating,
        "network_changeable": changeable,
        "network_in_flux": networking.in_flux,
        # a fixed IPv4 address without a floating IP yet (Neutron gives a fixed IP one per external network)
        "floating_addable": any(
            not any(f.port_id == port.id and f.fixed_ip == fixed.ip_address for f in networking.floating_ips)
            for port, fixed in networking.fixed_ipv4
        ),
        "ports_cli": f"openstack port list --server {server.id} --long",
    }


def _security_context(server: selectors.Server, networking: Any, ops: list[Any]) -> dict[str, Any]:
    """The Security groups section: the server's groups (with their ingress rules in short), those being added or
    removed now, and the project's other groups to add (by id: two may share a name)."""
    security = networking.security
    if security is None:
        return {}
    changing = {
        str(op.params.get("group_id")): op.kind
        for op in ops
        if op.kind in ("server.add_security_group", "server.remove_security_group")
    }
    names = security.names
    return {
        "security": security,
        "security_rows": [
            {
                "group": g,
                "removing": changing.get(g.id) == "server.remove_security_group",
                "remove_url": reverse("instances:remove_security_group", args=[server.id, g.id]),
                "cli": cli.security_group_command("remove", server.id, g.name if names.get(g.name) == 1 else g.id),
            }
            for g in security.groups
        ],
        "security_adding": [g for g in security.available if changing.get(g.id) == "server.add_security_group"],
        "security_choices": [
            (g.id, g.name if names.get(g.name) == 1 else f"{g.name} ({g.id[:8]})")
            for g in security.available
            if g.id not in changing
        ],
        "security_cli": cli.security_group_command("add", server.id, "<group>"),
        "security_in_flux": bool(changing),
    }


def _group_ref(security: Any, group: Any) -> str:
    return group.name if security.names.get(group.name) == 1 else group.id


@login_required
@require_POST
def add_security_group(request: AuthedRequest, server_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    security = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id).security
    group = next((g for g in security.available if g.id == request.POST.get("group_id")), None) if security else None
    if security is None or not security.supported:
        messages.error(request, _("This cloud's Networking service (Neutron) has no security groups."))
    elif not security.ports:
        messages.error(request, _("This instance has no network interface for a security group to apply to."))
    elif group is None:
        messages.error(request, _("Choose one of the project's security groups that the instance does not have."))
    else:
        params = {"group_id": group.id, "group_name": group.name, "group_ref": _group_ref(security, group)}
        if _dispatch_sub_action(request, server, "add_security_group", params):
            messages.success(
                request,
                _("Adding the security group %(group)s to %(name)s…") % {"group": group.name, "name": server.name},
            )
    return HttpResponseRedirect(back)


@login_required
@require_POST
def remove_security_group(request: AuthedRequest, server_id: str, group_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    security = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id).security
    group = next((g for g in security.groups if g.id == group_id), None) if security else None
    if group is None:
        raise Http404(_("This instance does not have that security group."))
    params = {"group_id": group.id, "group_name": group.name, "group_ref": _group_ref(security, group)}
    if _dispatch_sub_action(request, server, "remove_security_group", params):
        messages.success(
            request,
            _("Removing the security group %(group)s from %(name)s…") % {"group": group.name, "name": server.name},
        )
    return HttpResponseRedirect(back)


def _network_page(request: AuthedRequest, server_id: str) -> tuple[Any, selectors.Server, str]:
    creds = _creds(request)
    if not network_selectors.has_network_service(creds):
        raise Http404(_("This cloud has no Networking service (Neutron) in its catalog."))
    server = selectors.get_server(creds, server_id)
    return creds, server, safe_next(request, reverse("instances:detail", args=[server.id]))


def _not_now(request: HttpRequest, server: selectors.Server, label: str) -> bool:
    """Nova changes a server's interfaces only while it is active, paused or stopped with no task running."""
    if server.vm_state in ("active", "paused", "stopped") and not server.task_state:
        return False
    messages.error(
        request,
        _("%(action)s is not possible while %(name)s is %(status)s.")
        % {"action": label, "name": server.name, "status": server.status},
    )
    return True


def _dispatch_sub_action(request: AuthedRequest, server: selectors.Server, action: str, params: dict[str, Any]) -> bool:
    """Queue an action of the instance's own forms (interfaces, floating IPs, security groups, volumes); False, with
    the message shown, when the queue refuses."""
    try:
        services.server_action(
            creds=_creds(request), server_id=server.id, server_name=server.name, action=action, params=params
        )
    except services.DispatchError as exc:
        messages.error(request, exc.message)
        return False
    _watch(request)
    return True


@login_required
@require_http_methods(["GET", "POST"])
def attach_interface(request: AuthedRequest, server_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    label = _("Attach interface")
    if _not_now(request, server, label):
        return HttpResponseRedirect(back)
    choices = network_selectors.attach_choices(creds)
    form = forms.AttachInterfaceForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        params = form.params()
        if _dispatch_sub_action(request, server, "attach_interface", params):
            messages.success(
                request, _("Attaching %(what)s to %(name)s…") % {"what": params["label"], "name": server.name}
            )
        return HttpResponseRedirect(back)
    params = form.shown_params()
    context = {
        "server": server,
        "label": label,
        "form": form,
        "ready": form.has_choices,
        "empty": _("This project has no network an instance can be put on and no free port."),
        "next": back,
        "cli": cli.attach_interface_command(server, params),
    }
    return render(request, "instances/server_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def detach_interface(request: AuthedRequest, server_id: str, port_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    networking = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id)
    port = next((p for p in networking.ports if p.id == port_id), None)
    if port is None:
        raise Http404(_("This instance has no such interface."))
    params = {"port_id": port.id, "label": port.label}
    if not _not_now(request, server, _("Detach interface")) and _dispatch_sub_action(
        request, server, "detach_interface", params
    ):
        messages.success(
            request,
            _("Detaching the interface on %(network)s from %(name)s…")
            % {"network": port.network_name, "name": server.name},
        )
    return HttpResponseRedirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def add_floating_ip(request: AuthedRequest, server_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    networking = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id)
    choices = network_selectors.floating_ip_choices(creds)
    data = request.POST if request.method == "POST" else None
    form = forms.AddFloatingIPForm(data, choices=choices, networking=networking)
    if request.method == "POST" and form.usable and form.is_valid():
        params = form.params()
        if _dispatch_sub_action(request, server, "add_floating_ip", params):
            what = params.get("address") or _("a new floating IP from %(pool)s") % {"pool": params.get("network_name")}
            messages.success(request, _("Associating %(what)s with %(name)s…") % {"what": what, "name": server.name})
        return HttpResponseRedirect(back)
    params = form.shown_params()
    if not networking.fixed_ipv4:
        empty = _("This instance has no IPv4 address to give a floating IP to: attach it to a network first.")
    elif not form.targets:
        empty = _("Every fixed IPv4 address of this instance has a floating IP already.")
    else:
        empty = _("This project has no free floating IP and the cloud has no external network to allocate one from.")
    context = {
        "server": server,
        "label": _("Associate floating IP"),
        "form": form,
        "ready": form.usable,
        "empty": empty,
        "next": back,
        "cli": cli.add_floating_ip_command(server, params),
    }
    return render(request, "instances/server_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def remove_floating_ip(request: AuthedRequest, server_id: str, floating_ip_id: str) -> HttpResponse:
    creds, server, back = _network_page(request, server_id)
    networking = network_selectors.server_networking(creds, server_id=server.id, project_id=server.project_id)
    fip = next((f for f in networking.floating_ips if f.id == floating_ip_id), None)
    if fip is None:
        raise Http404(_("This instance has no such floating IP."))
    release = request.POST.get("release") == "1"
    params = {"floating_ip_id": fip.id, "address": fip.address, "release": release}
    if _dispatch_sub_action(request, server, "remove_floating_ip", params):
        text = _("Releasing %(address)s from %(name)s…") if release else _("Disassociating %(address)s from %(name)s…")
        messages.success(request, text % {"address": fip.address, "name": server.name})
    return HttpResponseRedirect(back)


# --- volumes (the server's volumes_attached; Cinder's volumes through apps/volumes) -----------------------------


def _volume_context(request: AuthedRequest, server: selectors.Server, ops: list[Any]) -> dict[str, Any]:
    """The Volumes section: nothing without Cinder in the catalog; a failing Nova or Cinder is said in the section
    (the rest of the page stays)."""
    from apps.volumes import selectors as volume_selectors
    from apps.volumes import services as volume_services

    creds = _creds(request)
    if not volume_selectors.has_volume_service(creds):
        return {}
    try:
        attached = volume_selectors.server_volumes(creds, server.id, server.volumes)
    except CloudError as exc:
        if exc.status < 500:
            raise
        log_cloud_error(request, exc)
        return {"has_volumes": True, "volumes_error": exc}
    changing = {
        str(op.params.get("volume_id")): op for op in ops if op.kind in ("server.attach_volume", "server.detach_volume")
    }
    listed = {v.volume_id for v in attached}
    root = server.volumes[0] if server.volume_backed and server.volumes else ""
    rows = [
        {
            "volume": v,
            "op": changing.get(v.volume_id),
            "root": v.volume_id == root,
            "detach_url": reverse("instances:detach_volume", args=[server.id, v.volume_id]),
            "cli": volume_services.cli_detach(server.id, v.volume_id),
        }
        for v in attached
    ]
    return {
        "has_volumes": True,
        "volume_rows": rows,
        "volumes_attaching": [op for vid, op in changing.items() if vid not in listed],
        "volumes_changeable": server.vm_state in ("active", "paused", "stopped") and not server.task_state,
        "volumes_in_flux": bool(changing) or any(v.in_flux for v in attached),
        "volumes_cli": f"openstack server volume list {server.id}",
    }


@login_required
@require_http_methods(["GET", "POST"])
def attach_volume(request: AuthedRequest, server_id: str) -> HttpResponse:
    from apps.volumes import selectors as volume_selectors
    from apps.volumes import services as volume_services
    from apps.volumes.forms import AttachVolumeForm

    creds = _creds(request)
    if not volume_selectors.has_volume_service(creds):
        raise Http404(_("This cloud has no Block Storage service (Cinder) in its catalog."))
    server = selectors.get_server(creds, server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    label = _("Attach volume")
    if _not_now(request, server, label):
        return HttpResponseRedirect(back)

    def lookup(volume_id: str) -> Any:
        try:
            return volume_selectors.get_volume(creds, volume_id) if volume_id else None
        except NotFound:
            return None

    volumes = volume_selectors.available_volumes(creds)
    form = AttachVolumeForm(request.POST if request.method == "POST" else None, volumes=volumes, lookup=lookup)
    if request.method == "POST" and form.is_valid() and form.chosen is not None:
        chosen = form.chosen
        params = {"volume_id": chosen.id, "volume_name": chosen.label, "device": form.cleaned_data["device"]}
        if _dispatch_sub_action(request, server, "attach_volume", params):
            text = _("Attaching the volume %(volume)s to %(name)s…")
            messages.success(request, text % {"volume": chosen.label, "name": server.name})
        return HttpResponseRedirect(back)
    data = form.data if form.is_bound else {}
    context = {
        "server": server,
        "label": label,
        "form": form,
        "ready": bool(volumes) or form.is_bound,
        "empty": _("This project has no available volume to attach."),
        "empty_link": (reverse("volumes:create"), _("Create a volume")),
        "next": back,
        "cli": volume_services.cli_attach(server.id, data.get("volume_id", ""), data.get("device", "")),
    }
    return render(request, "instances/server_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def detach_volume(request: AuthedRequest, server_id: str, volume_id: str) -> HttpResponse:
    from apps.volumes import selectors as volume_selectors

    creds = _creds(request)
    if not volume_selectors.has_volume_service(creds):
        raise Http404(_("This cloud has no Block Storage service (Cinder) in its catalog."))
    server = selectors.get_server(creds, server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    attached = volume_selectors.server_volumes(creds, server.id, [volume_id] if volume_id in server.volumes else [])
    volume = attached[0] if attached else None
    if volume is None:
        raise Http404(_("This instance has no such volume attached."))
    params = {"volume_id": volume.volume_id, "volume_name": volume.label}
    if not _not_now(request, server, _("Detach volume")) and _dispatch_sub_action(
        request, server, "detach_volume", params
    ):
        messages.success(
            request, _("Detaching the volume %(volume)s from %(name)s…") % {"volume": volume.label, "name": server.name}
        )
    return HttpResponseRedirect(back)


def _shown_tab(request: HttpRequest) -> str:
    """The tab the page shows now, from the address htmx sends with a request (HX-Current-URL)."""
    query = parse_qs(urlsplit(request.headers.get("HX-Current-URL", "")).query)
    tab = (query.get("tab") or ["overview"])[0]
    return tab if tab in ("overview", "log", "actions") else "overview"


def _log_lines(request: HttpRequest) -> int:
    try:
        lines = int(request.GET.get("lines") or LOG_LINES[0])
    except ValueError:
        lines = LOG_LINES[0]
    return lines if lines in LOG_LINES else LOG_LINES[0]


@login_required
@require_GET
def console_log_download(request: AuthedRequest, server_id: str) -> HttpResponse:
    creds = _creds(request)
    text = selectors.console_log(creds, server_id, lines=None)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="console-{server_id}.log"'
    return response


# --- actions ---------------------------------------------------------------------------------------------------


def _action_form(action: str, request: AuthedRequest, server: selectors.Server, data: Any = None) -> Any:
    creds = _creds(request)
    if action == "rename":
        return forms.RenameForm(data, initial={"name": server.name})
    if action == "snapshot":
        return forms.SnapshotForm(data, initial={"name": f"{server.name}-snapshot"})
    if action == "lock":
        return forms.LockForm(data)
    if action == "resize":
        return forms.ResizeForm(data, flavors=offers.list_flavors(creds), current=server.flavor_name)
    if action == "rebuild":
        return forms.RebuildForm(
            data, images=offers.list_images(creds), server=server, initial={"image_id": server.image_id}
        )
    if action == "unshelve":
        return forms.UnshelveForm(data, zones=selectors.list_zones(creds))
    if action == "rescue":
        return forms.RescueForm(data, images=offers.list_images(creds))
    if action == "backup":
        return forms.BackupForm(data, initial={"name": f"{server.name}-backup", "backup_type": "daily", "rotation": 1})
    return None


def _params(action: str, form: Any) -> dict[str, Any]:
    if form is None:
        return {}
    data = form.cleaned_data
    if action == "rename":
        return {"name": data["name"]}
    if action == "snapshot":
        return {"name": data["name"]}
    if action == "lock":
        return {"reason": data.get("reason") or ""}
    if action == "resize":
        return {"flavor_id": data["flavor_id"]}
    if action == "rebuild":
        return {"image_id": data["image_id"]}
    if action == "unshelve":
        return {"availability_zone": data.get("availability_zone") or ""}
    if action == "rescue":
        return {"image_id": data.get("image_id") or ""}
    if action == "backup":
        return {"name": data["name"], "backup_type": data["backup_type"], "rotation": data["rotation"]}
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def server_action(request: AuthedRequest, server_id: str, action: str) -> HttpResponse:
    """GET: the action's page (its form, or a confirmation without JavaScript) with the CLI; POST: dispatch."""
    creds = _creds(request)
    labels = _action_labels()
    if action not in labels:
        raise Http404(_("No such action."))
    server = selectors.get_server(creds, server_id)
    detail_url = reverse("instances:detail", args=[server.id])
    back = safe_next(request, detail_url)
    allowed = server.allowed(is_admin=creds.is_admin)
    if action not in allowed:
        messages.error(
            request,
            _("%(action)s is not possible while %(name)s is %(status)s.")
            % {"action": labels[action], "name": server.name, "status": server.status},
        )
        return HttpResponseRedirect(back)
    form = _action_form(action, request, server, request.POST if request.method == "POST" else None)
    if request.method == "POST" and (form is None or form.is_valid()):
        params = _params(action, form)
        try:
            services.server_action(
                creds=creds, server_id=server.id, server_name=server.name, action=action, params=params
            )
        except services.DispatchError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(back)
        _watch(request)
        messages.success(request, _action_text()[action][0] % {"name": server.name})
        if action == "delete" and back.startswith(detail_url):
            back = reverse("instances:list")
        return HttpResponseRedirect(back)
    text = _action_text()[action]
    context = {
        "server": server,
        "action": action,
        "label": labels[action],
        "form": form,
        "confirm": text[1] % {"name": server.name} if text[1] else "",
        "danger": action in DANGER_ACTIONS,
        "next": back,
        "cli": action_command(action, server, form.data if form is not None and form.is_bound else None),
    }
    return render(request, "instances/action.html", context, status=400 if request.method == "POST" else 200)


# --- launch ----------------------------------------------------------------------------------------------------


def _launch_initial(request: HttpRequest) -> dict[str, Any]:
    source = request.GET.get("source", "image")
    initial: dict[str, Any] = {"source": source if source in dict(forms.SOURCES) else "image", "count": 1}
    image_id = request.GET.get("image_id", "")
    if source == "snapshot":
        initial["snapshot_id"] = image_id
    elif image_id:
        initial["image_id"] = image_id
    if request.GET.get("volume_id"):
        initial["volume_id"] = request.GET["volume_id"]
    for key in ("flavor_id", "key_name", "availability_zone", "name", "server_group"):
        if request.GET.get(key):
            initial[key] = request.GET[key]
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def launch(request: AuthedRequest) -> HttpResponse:
    creds = _creds(request)
    choices = offers.launch_choices(creds)
    if request.method == "POST":
        form = forms.LaunchForm(request.POST, choices=choices)
        if form.is_valid():
            req = form.launch_request()
            flavor = form.selected_flavor()
            try:
                services.check_launch_quota(
                    quota=choices.quota,  # read in this request, just before
                    count=req.count,
                    vcpus=flavor.vcpus if flavor else 0,
                    ram=flavor.ram if flavor else 0,
                    ports=(choices.network_quota.get("port"), _launch_ports(form)),
                )
                services.launch_servers(creds=creds, launch=req)
            except (services.QuotaExceeded, OverQuota) as exc:
                form.add_error(None, exc.message)
            except services.DispatchError as exc:
                form.add_error(None, exc.message)
            else:
                _watch(request)
                if req.count == 1:
                    messages.success(request, _("Launching %(name)s…") % {"name": req.name})
                else:
                    messages.success(
                        request, _("Launching %(n)s instances named %(name)s-1…") % {"n": req.count, "name": req.name}
                    )
                return HttpResponseRedirect(reverse("instances:list"))
    else:
        form = forms.LaunchForm(
            request.GET if _htmx(request) and request.GET.get("live") else None,
            choices=choices,
            initial=_launch_initial(request),
        )
    context = {
        "form": form,
        "choices": choices,
        "usage": _launch_usage(form, choices.quota),
        "cli": launch_command(form),
    }
    if _htmx(request) and request.GET.get("live"):
        return render(request, "instances/launch.html#launch-live", context)
    return render(request, "instances/launch.html", context, status=400 if request.method == "POST" else 200)


def _launch_ports(form: forms.LaunchForm) -> int:
    """The Neutron ports a launch makes: one per network chosen, for each instance (Nova makes them at boot)."""
    return form.count_value() * len(form.chosen_networks()) if form.choices.picks_networks else 0


def _launch_usage(form: forms.LaunchForm, quota: offers.Quota) -> list[dict[str, Any]]:
    flavor = form.selected_flavor()
    count = form.count_value()
    rows = [
        ("instances", _("Instances"), count, quota.instances, quota.instances_used),
        ("cores", _("vCPUs"), count * (flavor.vcpus if flavor else 0), quota.cores, quota.cores_used),
        ("ram", _("RAM"), count * (flavor.ram if flavor else 0), quota.ram, quota.ram_used),
    ]
    ports = form.choices.network_quota.get("port")
    if ports is not None and form.choices.picks_networks:  # Neutron's quota, with its usage
        rows.append(("port", _("Ports (Neutron)"), _launch_ports(form), ports.limit, ports.used))
    return [
        {
            "key": key,
            "label": label,
            "adds": adds,
            "used": used,
            "limit": limit,
            "after": used + adds,
            "over": limit >= 0 and used + adds > limit,
            "unlimited": limit < 0,
            # what the table shows: memory in MiB/GiB as every page shows it
            "used_text": mib(used) if key == "ram" else str(used),
            "adds_text": mib(adds) if key == "ram" else str(adds),
            "limit_text": mib(limit) if key == "ram" else str(limit),
        }
        for key, label, adds, limit, used in rows
    ]


@login_required
@require_GET
def action_events(request: AuthedRequest, server_id: str, request_id: str) -> HttpResponse:
    """The events of one action in the Action log tab, loaded when the person opens it. A failing service is
    named where the events would be, with a way to try again (the tab and the rest of the page stay)."""
    try:
        events = selectors.action_events(_creds(request), server_id, request_id)
    except CloudError as exc:
        if exc.status < 500:  # not found, forbidden, expired: the usual page, as for any other request
            raise
        log_cloud_error(request, exc)
        context = {"error": exc, "service_name": exc.service_name, "retry_url": request.get_full_path()}
        return render(request, "instances/detail.html#action-events-error", context)
    return render(request, "instances/detail.html#action-events", {"events": events})


@login_required
@require_POST
def rescue_password(request: AuthedRequest, server_id: str) -> HttpResponse:
    """The rescue mode's admin password Nova gave, once: erased from the operation as it is shown."""
    creds = _creds(request)
    server = selectors.get_server(creds, server_id)
    password = services.take_rescue_password(creds=creds, server_id=server.id)
    context = {"server": server, "password": password}
    response = render(request, "instances/rescue_password.html", context, status=200 if password else 410)
    response["Cache-Control"] = "no-store"
    return response


# --- metadata and tags (each change one operation on Nova's per-key endpoints) ------------------------------------

META_KINDS = ("server.set_metadata", "server.delete_metadata")
TAG_KINDS = ("server.add_tag", "server.remove_tag")


def _metadata_context(request: AuthedRequest, server: selectors.Server, ops: list[Any]) -> dict[str, Any]:
    """The Metadata and Tags sections: the items and the person's tags (Stratus' own `op-` tag left out), what is
    being changed now, and whether Nova would take a change (metadata: active, paused, suspended or stopped with no
    task, and not locked for a member; tags: those states, at microversion 2.26+)."""
    creds = _creds(request)
    meta_ops = {str(op.params.get("key")): op for op in ops if op.kind in META_KINDS}
    tag_ops = {str(op.params.get("tag")): op for op in ops if op.kind in TAG_KINDS}
    writable = server.vm_state in ("active", "paused", "suspended", "stopped")
    shown = dict(server.metadata)
    return {
        "metadata_rows": [
            {
                "key": key,
                "value": value,
                "op": meta_ops.get(key),
                "cli_set": cli.metadata_command("set", server.id, key, value),
                "cli_unset": cli.metadata_command("unset", server.id, key),
            }
            for key, value in server.metadata
        ],
        "metadata_adding": [op for key, op in meta_ops.items() if key not in shown and op.kind == META_KINDS[0]],
        "metadata_changeable": writable and not server.task_state and (creds.is_admin or not server.locked),
        "metadata_cli": cli.metadata_command("set", server.id, "<key>", "<value>"),
        "tag_rows": [{"tag": t, "op": tag_ops.get(t)} for t in server.user_tags],
        "tags_adding": [t for t, op in tag_ops.items() if t not in server.tags and op.kind == TAG_KINDS[0]],
        "tags_changeable": writable and server.tags_supported,
        "tags_cli": cli.tag_command("set", server.id, "<tag>"),
        "meta_in_flux": bool(meta_ops) or bool(tag_ops),
    }


def _metadata_page(
    request: AuthedRequest, server: selectors.Server, form: Any, label: str, cli_text: str
) -> HttpResponse:
    context = {
        "server": server,
        "label": label,
        "form": form,
        "ready": True,
        "next": safe_next(request, reverse("instances:detail", args=[server.id])),
        "cli": cli_text,
    }
    return render(request, "instances/server_form.html", context, status=400 if form.is_bound else 200)


@login_required
@require_http_methods(["GET", "POST"])
def set_metadata(request: AuthedRequest, server_id: str) -> HttpResponse:
    """Add a metadata item or give one a new value; bad input comes back next to its field, nothing sent."""
    server = selectors.get_server(_creds(request), server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    data = request.POST if request.method == "POST" else None
    form = forms.MetadataItemForm(data, initial={"key": request.GET.get("key", "")})
    label = _("Set metadata")
    if data is not None and form.is_valid():
        key, value = form.cleaned_data["key"], form.cleaned_data["value"]
        if _dispatch_sub_action(request, server, "set_metadata", {"key": key, "value": value}):
            messages.success(request, _("Setting %(key)s on %(name)s…") % {"key": key, "name": server.name})
        return HttpResponseRedirect(back)
    shown = form.data if form.is_bound else {}
    command = cli.metadata_command("set", server.id, shown.get("key", "") or "<key>", shown.get("value", ""))
    return _metadata_page(request, server, form, label, command)


@login_required
@require_POST
def delete_metadata(request: AuthedRequest, server_id: str) -> HttpResponse:
    server = selectors.get_server(_creds(request), server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    key = request.POST.get("key", "")
    if key not in dict(server.metadata):
        raise Http404(_("This instance has no such metadata item."))
    if _dispatch_sub_action(request, server, "delete_metadata", {"key": key}):
        messages.success(request, _("Removing %(key)s from %(name)s…") % {"key": key, "name": server.name})
    return HttpResponseRedirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def add_tag(request: AuthedRequest, server_id: str) -> HttpResponse:
    server = selectors.get_server(_creds(request), server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    if not server.tags_supported:
        messages.error(request, _("This cloud's Compute (Nova) has no server tags: they need microversion 2.26."))
        return HttpResponseRedirect(back)
    data = request.POST if request.method == "POST" else None
    form = forms.TagForm(data, tags=server.tags)
    if data is not None and form.is_valid():
        tag = form.cleaned_data["tag"]
        if _dispatch_sub_action(request, server, "add_tag", {"tag": tag}):
            messages.success(request, _("Tagging %(name)s %(tag)s…") % {"tag": tag, "name": server.name})
        return HttpResponseRedirect(back)
    shown = (form.data.get("tag") or "").strip() if form.is_bound else ""
    return _metadata_page(request, server, form, _("Add tag"), cli.tag_command("set", server.id, shown))


@login_required
@require_POST
def remove_tag(request: AuthedRequest, server_id: str) -> HttpResponse:
    server = selectors.get_server(_creds(request), server_id)
    back = safe_next(request, reverse("instances:detail", args=[server.id]))
    tag = request.POST.get("tag", "")
    if tag not in server.user_tags:  # Stratus' own bookkeeping tag is not the person's to remove
        raise Http404(_("This instance has no such tag."))
    if _dispatch_sub_action(request, server, "remove_tag", {"tag": tag}):
        messages.success(request, _("Removing the tag %(tag)s from %(name)s…") % {"tag": tag, "name": server.name})
    return HttpResponseRedirect(back)
