"""Key pairs through the Django test client: generate, one-time private key, import, delete."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from apps.keypairs.services import generate_keypair


def _name() -> str:
    return f"kp-{uuid.uuid4().hex[:8]}"


def md5_fingerprint(public_key: str, tmp_path: Path) -> str:
    path = tmp_path / "key.pub"
    path.write_text(public_key + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[1].removeprefix("MD5:")


def test_it_creates_a_key_pair_and_offers_the_private_key_once(member_client, stratus, tmp_path) -> None:
    name = _name()
    response = member_client.post("/keypairs/create/", {"name": name, "algorithm": "ed25519"})
    assert response.status_code == 302
    page = member_client.get(response["Location"]).content.decode()
    assert "Download private key" in page

    download = member_client.post(f"/keypairs/{name}/private-key/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{name}.pem"'
    private = serialization.load_ssh_private_key(download.content, password=None)
    public_line = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)

    again = member_client.post(f"/keypairs/{name}/private-key/")
    assert again.status_code == 410
    assert "no longer available" in again.content.decode()
    assert "Download private key" not in member_client.get(f"/keypairs/{name}/").content.decode()

    kp = stratus.member.connect().compute.get_keypair(name)
    assert kp.public_key.split()[:2] == public_line.decode().split()[:2]
    assert kp.fingerprint == md5_fingerprint(kp.public_key, tmp_path)
    member_client.post(f"/keypairs/{name}/delete/")


def test_it_generates_rsa_4096() -> None:
    private, public = generate_keypair(algorithm="rsa", comment="x")
    key = serialization.load_ssh_private_key(private.encode(), password=None)
    assert key.key_size == 4096 and public.startswith("ssh-rsa ")


def test_it_imports_a_public_key_and_shows_novas_fingerprint(member_client, stratus, tmp_path) -> None:
    key_path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@laptop", "-f", str(key_path)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text()
    name = _name()
    response = member_client.post("/keypairs/import/", {"name": name, "public_key": public})
    assert response.status_code == 302
    page = member_client.get(f"/keypairs/{name}/").content.decode()
    expected = md5_fingerprint(public.strip(), tmp_path)
    assert expected in page
    assert expected in member_client.get("/keypairs/").content.decode()
    response = member_client.post(f"/keypairs/{name}/delete/")
    assert response.status_code == 302
    assert name not in [k.name for k in stratus.member.connect().compute.keypairs()]


def test_it_imports_an_uploaded_file(member_client, stratus) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, public = generate_keypair(algorithm="ed25519", comment="up")
    name = _name()
    upload = SimpleUploadedFile("id.pub", public.encode(), content_type="text/plain")
    response = member_client.post("/keypairs/import/", {"name": name, "public_key": "", "public_key_file": upload})
    assert response.status_code == 302
    assert name in [k.name for k in stratus.member.connect().compute.keypairs()]
    member_client.post(f"/keypairs/{name}/delete/")


def test_it_refuses_a_malformed_public_key_before_the_call(member_client, stratus) -> None:
    name = _name()
    cases = {
        "ssh-ed25519 AAAA-not-base64!!": "not valid",
        "ssh-foo AAAAB3NzaC1yc2E": "is not supported",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----": "This is a private key",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoq": "not valid",
    }
    for text, message in cases.items():
        response = member_client.post("/keypairs/import/", {"name": name, "public_key": text})
        assert response.status_code == 400, text
        html = response.content.decode()
        assert 'id="id_public_key-error"' in html and message in html, (text, html[:200])
    assert name not in [k.name for k in stratus.member.connect().compute.keypairs()]


def test_it_shows_a_taken_name_next_to_the_field(member_client) -> None:
    name = _name()
    assert member_client.post("/keypairs/create/", {"name": name, "algorithm": "ed25519"}).status_code == 302
    response = member_client.post("/keypairs/create/", {"name": name, "algorithm": "ed25519"})
    assert response.status_code == 400
    assert 'id="id_name-error"' in response.content.decode()
    bad = member_client.post("/keypairs/create/", {"name": "no/slashes", "algorithm": "ed25519"})
    assert bad.status_code == 400 and 'id="id_name-error"' in bad.content.decode()
    member_client.post(f"/keypairs/{name}/delete/")


def test_it_says_key_pairs_are_per_user(member_client) -> None:
    html = member_client.get("/keypairs/").content.decode()
    assert "belong to you" in html and "openstack keypair list" in html


def test_the_list_costs_one_cloud_call(member_client, cloud_calls) -> None:
    member_client.get("/keypairs/")  # version discovery is cached per process
    with cloud_calls.recording() as calls:
        assert member_client.get("/keypairs/").status_code == 200
    assert calls == ["GET compute /os-keypairs"], calls


def test_the_list_and_the_page_name_the_algorithm_and_the_sha256_fingerprint(member_client, tmp_path) -> None:
    """Nova's type says "ssh" for every OpenSSH key; the pages say what `ssh-keygen -l` says: the algorithm with its
    size and the SHA256 fingerprint (Nova's MD5 one stays on the key's page)."""
    made = []
    kinds = (("ed25519", "", "ED25519"), ("rsa", "4096", "RSA 4096"), ("ecdsa", "384", "ECDSA 384"))
    for kind, bits, expected in kinds:
        path = tmp_path / f"id_{kind}"
        size = ["-b", bits] if bits else []
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *size, "-N", "", "-C", "t@x", "-f", str(path)], check=True)
        public = path.with_suffix(".pub").read_text().strip()
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(path.with_suffix(".pub"))], **RUN)
        sha256 = out.stdout.split()[1]
        name = _name()
        assert member_client.post("/keypairs/import/", {"name": name, "public_key": public}).status_code == 302
        made.append((name, expected, sha256))
    try:
        listing = member_client.get("/keypairs/").content.decode()
        for name, expected, sha256 in made:
            row = listing[listing.index(f'title="{name}"') :].split("</tr>")[0]
            assert f">{expected}</span>" in row and sha256 in row and ">ssh<" not in row, row
            page = member_client.get(f"/keypairs/{name}/").content.decode()
            assert f'<dd data-field="algorithm">{expected}</dd>' in page and sha256 in page
    finally:
        for name, _, _ in made:
            member_client.post(f"/keypairs/{name}/delete/")


RUN = {"capture_output": True, "text": True, "check": True}
