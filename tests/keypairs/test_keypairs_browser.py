"""A member creates a key pair and downloads its private key once, imports an OpenSSH public key whose
fingerprint matches ssh-keygen's, and deletes both — in a real browser."""

from __future__ import annotations

import re
import subprocess
import uuid

import openstack
import pytest
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from tests.browser.dialogs import confirm
from tests.browser.shots import look

pytestmark = pytest.mark.browser


def _md5(path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[1].removeprefix("MD5:")


def _sha256(path) -> str:  # what `ssh-keygen -l` prints by default
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def test_member_creates_downloads_once_imports_and_deletes(member_page, live_server, stratus, tmp_path) -> None:
    page = member_page
    base = live_server.url
    conn = openstack.connect(cloud=stratus.member.name)
    suffix = uuid.uuid4().hex[:6]
    created, imported = f"made-{suffix}", f"mine-{suffix}"

    page.goto(base + "/keypairs/")
    expect(page.locator(".alert.info")).to_contain_text("Key pairs belong to you")
    page.get_by_role("link", name="Create key pair").click()
    page.get_by_label("Name").fill(created)
    expect(page.get_by_label("ED25519 (recommended)")).to_be_checked()
    page.get_by_role("button", name="Create key pair").click()
    page.wait_for_url(re.compile(rf".*/keypairs/{created}/$"))
    expect(page.locator(".toast").first).to_contain_text(f"Key pair {created} created.")
    look(page, "keypairs-created")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download private key").click()
    download = info.value
    assert download.suggested_filename == f"{created}.pem"
    pem = tmp_path / "made.pem"
    download.save_as(pem)
    pem.chmod(0o600)
    private = serialization.load_ssh_private_key(pem.read_bytes(), password=None)
    # The private key that was downloaded is the pair of the public key Nova has.
    pub_from_private = subprocess.run(["ssh-keygen", "-y", "-f", str(pem)], capture_output=True, text=True, check=True)
    assert conn.compute.get_keypair(created).public_key.split()[:2] == pub_from_private.stdout.split()[:2]
    assert private is not None

    # The page still shows the (now stale) button: a second try is refused, the key is gone.
    page.get_by_role("button", name="Download private key").click()
    expect(page.get_by_role("heading", name="This private key is no longer available")).to_be_visible()
    look(page, "keypairs-private-gone")
    page.goto(f"{base}/keypairs/{created}/")
    expect(page.get_by_role("button", name="Download private key")).to_have_count(0)

    # Import an OpenSSH public key made by ssh-keygen: a malformed one first.
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", str(key)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    page.goto(base + "/keypairs/import/")
    page.get_by_label("Name").fill(imported)
    page.get_by_label("Public key", exact=True).fill(public[:40])
    page.get_by_role("button", name="Import key pair").click()
    expect(page.locator("#id_public_key-error")).to_contain_text("not valid")
    look(page, "keypairs-import-error")
    assert imported not in [k.name for k in conn.compute.keypairs()]

    page.get_by_label("Public key", exact=True).fill(public)
    page.get_by_role("button", name="Import key pair").click()
    page.wait_for_url(re.compile(rf".*/keypairs/{imported}/$"))
    expect(page.locator("#fingerprint")).to_have_text(_md5(tmp_path / "id_ed25519.pub"))
    expect(page.locator("#fingerprint-sha256")).to_have_text(_sha256(tmp_path / "id_ed25519.pub"))
    expect(page.locator("[data-field=algorithm]")).to_have_text("ED25519")
    expect(page.locator("#public-key")).to_have_value(public)
    look(page, "keypairs-detail")

    page.goto(base + "/keypairs/")
    row = page.locator("table.keypairs tr", has_text=imported)
    expect(row).to_contain_text(_sha256(tmp_path / "id_ed25519.pub"))
    expect(row.locator(".badge")).to_have_text("ED25519")  # not Nova's "ssh"
    look(page, "keypairs-list")

    # Delete both, confirming in the page's dialog.
    for name in (created, imported):
        page.locator("tr", has_text=name).get_by_role("button", name="Delete").click()
        confirm(page, "Delete")
        expect(page.locator(".toast").first).to_contain_text(f"Key pair {name} deleted.")
        expect(page.locator("main")).not_to_contain_text(name)
    names = [k.name for k in conn.compute.keypairs()]
    assert created not in names and imported not in names

    # The page speaks Vietnamese too.
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Cặp khóa", exact=True)).to_be_visible()
    expect(page.locator(".alert.info")).to_contain_text("Cặp khóa thuộc về bạn")
    look(page, "keypairs-list-vi")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Key pairs", exact=True)).to_be_visible()
