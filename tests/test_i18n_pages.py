"""Every main page, rendered in Vietnamese with data on it, shows no English from the English catalogue: no
message of two words or more, no Nova status code (ACTIVE, RUNNING, SHUTOFF, …), no English time span
("2 minutes"), no English role. What shows is the page's visible text plus the accessible names and
placeholders; a `title` (where the raw Nova code stays available) and code blocks (the CLI, which is the
`openstack` command, in English by nature) are not text a Vietnamese reader is meant to read as prose."""

from __future__ import annotations

import html
import re
import uuid
from html.parser import HTMLParser

import pytest

from tests.cloudharness import project_lock
from tests.test_i18n import catalogues, entries

# Codes Nova and Glance put on the wire that pages used to print as they came.
STATUS_WORDS = {
    # server status
    "ACTIVE", "BUILD", "SHUTOFF", "PAUSED", "SUSPENDED", "VERIFY_RESIZE", "REBOOT", "HARD_REBOOT", "RESIZE",
    "REBUILD", "SHELVED", "SHELVED_OFFLOADED", "RESCUE", "ERROR", "MIGRATING", "DELETED", "SOFT_DELETED",
    "UNKNOWN",
    # power state
    "NOSTATE", "RUNNING", "SHUTDOWN", "CRASHED",
    # task state (a sample: the ones a person sees most)
    "powering-off", "powering-on", "spawning", "scheduling", "rebooting", "deleting", "image_snapshot",
    "image_uploading", "image_pending_upload",
    # image status
    "queued", "saving", "active", "killed", "pending_delete",
    # Keystone role names shown in the header
    "member", "reader",
}  # fmt: skip
TIME_WORDS = {"minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year"}
SKIP_TAGS = {"script", "style", "pre", "code", "title"}
# Elements whose text is the user's or the cloud's data, not ours: a name typed by someone.
DATA_CLASSES = {"user-name", "mono"}


class _Text(HTMLParser):
    """The text a person reads (and a screen reader says) on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if tag in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self._attrs(a)
            return
        if self.skip or tag in SKIP_TAGS or classes & DATA_CLASSES or "cli" in classes:
            self.skip.append(tag)
            return
        self._attrs(a)

    def _attrs(self, a: dict[str, str | None]) -> None:
        if self.skip:
            return
        for key in ("aria-label", "placeholder", "alt"):
            if a.get(key):
                self.parts.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", html.unescape(" ".join(parser.parts)))


# Messages whose Vietnamese is the English word itself, on purpose (names, units and the loanwords Vietnamese
# cloud consoles use).
LOANWORDS = {
    "English", "Tiếng Việt", "ID", "UUID", "URL", "RAM", "RAM (MiB)", "Swap", "Swap (MiB)", "Placement", "Console",
    "VNC", "SPICE", "vCPUs", "vCPU", "Volume", "Console: %(name)s", "%(n)s × %(name)s",
}  # fmt: skip


def english_phrases() -> set[str]:
    """Fragments of two words or more of every English message that has a different Vietnamese text."""
    found: set[str] = set()
    for po in catalogues():
        for msgid, msgstr, _flags in entries(po):
            msgid = msgid.split("\x04")[-1]
            if not msgid or msgstr == msgid or msgid in LOANWORDS:
                continue
            text = re.sub(r"\\n|\\t|\\\"", " ", msgid)
            for fragment in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{[^}]*\}\}|[.:;!?…()\"“”—–]", text):
                words = fragment.split()
                if len(words) >= 2 and all(re.fullmatch(r"[A-Za-z][A-Za-z'’,-]*", w) for w in words):
                    found.add(" ".join(words).rstrip(","))
    return found


def english_on(page: str, phrases: set[str]) -> list[str]:
    text = visible_text(page)
    hits = sorted(p for p in phrases if re.search(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])", text))
    words = STATUS_WORDS | TIME_WORDS
    hits += sorted({w for w in re.findall(r"[A-Za-z_-]+", text) if w in words})
    return hits


def test_the_english_catalogue_yields_phrases_to_look_for():
    phrases = english_phrases()
    assert "Launch instance" in phrases and "Console log" in phrases
    assert english_on(
        "<p>Launch instance</p><p title='ACTIVE'>Đang chạy</p><pre>openstack server list</pre>", phrases
    ) == ["Launch instance"]
    assert english_on("<td>ACTIVE</td><td>2 minutes</td>", phrases) == ["ACTIVE", "minutes"]


def test_only_loanwords_read_the_same_in_vietnamese():
    """A message whose Vietnamese is its English, unless it is a name or a loanword on purpose, is untranslated
    (Image and Flavor headers were)."""
    same = sorted(
        {
            msgid
            for po in catalogues()
            for msgid, msgstr, _flags in entries(po)
            if msgid and msgstr == msgid and msgid not in LOANWORDS
        }
    )
    assert not same, "reads the same in Vietnamese (translate it, or add it to LOANWORDS if it is a loanword):\n" + (
        "\n".join(same)
    )


@pytest.fixture
def demo_conn(stratus):
    """openstacksdk as the member; the `t-…` servers it made are deleted at the end (see tests/instances)."""
    from tests.instances.conftest import _demo_conn

    with project_lock(stratus):
        yield from _demo_conn()


@pytest.fixture
def vi_data(stratus, demo_conn, admin_client, member_client):
    """A running and a stopped server, a key pair, a snapshot and an operation in the member's project."""
    from tests.instances.conftest import boot, wait_until

    running = boot(demo_conn, "t-vi-chay")
    stopped = boot(demo_conn, "t-vi-tat")
    demo_conn.compute.stop_server(stopped)
    demo_conn.compute.wait_for_server(stopped, status="SHUTOFF", interval=0.2, wait=60)
    key = f"t-vi-khoa-{uuid.uuid4().hex[:6]}"
    demo_conn.compute.create_keypair(name=key)
    snap = demo_conn.compute.create_server_image(running, f"t-vi-anh-{uuid.uuid4().hex[:6]}", wait=False)
    wait_until(lambda: demo_conn.image.get_image(snap.id).status == "active", timeout=60, what="snapshot active")
    # an operation (left pending: no worker runs here; the Activity pages show it all the same)
    member_client.post(f"/instances/{running.id}/reboot_soft/", {"next": "/instances/"})
    from apps.operations.models import Operation

    op = Operation.objects.latest("created_at")
    flavor = demo_conn.compute.find_flavor(stratus.small_flavor, ignore_missing=False)
    yield {"running": running, "stopped": stopped, "key": key, "snap": snap.id, "op": op, "flavor": flavor}
    demo_conn.compute.delete_keypair(key, ignore_missing=True)
    demo_conn.image.delete_image(snap.id, ignore_missing=True)


def rendered_pages(member_client, admin_client, data, language: str):
    """(url, html) of every main page, with data on it, as the member and the admin see them in `language`."""
    running, stopped = data["running"].id, data["stopped"].id
    member_pages = [
        "/overview/",
        "/instances/",
        f"/instances/{running}/",
        f"/instances/{stopped}/",
        f"/instances/{running}/?tab=log",
        f"/instances/{running}/?tab=actions",
        f"/instances/{running}/rename/",
        f"/instances/{running}/resize/",
        "/instances/launch/",
        "/flavors/",
        f"/flavors/{data['flavor'].id}/",
        "/keypairs/",
        f"/keypairs/{data['key']}/",
        "/keypairs/create/",
        "/keypairs/import/",
        "/snapshots/",
        f"/snapshots/{data['snap']}/",
        f"/snapshots/create/?server={running}",
        "/activity/",
        f"/activity/{data['op'].id}/",
        f"/console/{running}/",
    ]
    admin_pages = [
        "/admin/hypervisors/",
        "/admin/hypervisors/capacity/",
        "/admin/hypervisors/services/",
        "/flavors/create/",
    ]
    for client, pages in ((member_client, member_pages), (admin_client, admin_pages)):
        client.cookies["django_language"] = language
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            body = response.content.decode()
            if url == "/admin/hypervisors/":  # and one hypervisor's page
                links = re.findall(r'href="(/admin/hypervisors/[0-9a-zA-Z-]+/)"', body)
                detail = [link for link in links if link not in admin_pages]
                assert detail, "no hypervisor listed"
                admin_pages.append(detail[0])
            yield url, body


def test_no_english_shows_on_any_page_in_vietnamese(member_client, admin_client, vi_data):
    phrases = english_phrases()
    problems = []
    for url, body in rendered_pages(member_client, admin_client, vi_data, "vi"):
        hits = english_on(body, phrases)
        if hits:
            problems.append(f"{url}: {hits}")
    assert not problems, "English on Vietnamese pages:\n" + "\n".join(problems)


def test_memory_and_disk_read_in_binary_units_everywhere(member_client, admin_client, vi_data):
    """One convention, Nova's: MiB and GiB with the unit shown ("2 GB", "2048 MB", "256 MB (256 MiB)" and
    "RAM (MB)" used to sit side by side)."""
    decimal = re.compile(r"\d\s*(?:KB|MB|GB|TB)\b|\((?:KB|MB|GB|TB)\)")
    problems, binary = [], 0
    for url, body in rendered_pages(member_client, admin_client, vi_data, "en"):
        text = visible_text(body) + " " + " ".join(re.findall(r"<option[^>]*>([^<]*)</option>", body))
        problems += [f"{url}: {m}" for m in decimal.findall(text)]
        binary += len(re.findall(r"\d\s*(?:MiB|GiB|TiB)\b", text))
    assert not problems, "\n".join(problems)
    assert binary > 20, binary  # the pages do show amounts (flavors, quotas, specs, capacity)
