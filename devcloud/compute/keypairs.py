"""Key pairs, per user: import (and generation below 2.92 via ssh-keygen), list, show, delete."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from devcloud.compute.common import (
    bad,
    body_of,
    check_string,
    check_unexpected,
    conflict,
    ctx,
    invalid,
    is_admin,
    next_link,
    not_found,
    page,
    require,
    require_admin,
)
from devcloud.compute.microversions import mv
from devcloud.state import now_iso_micro, store
from devcloud.web import HttpError, Request, Response, empty_response, json_response, router

API = "/compute/v2.1"


def table() -> dict[str, Any]:
    return store.table("keypairs")


def _key(user_id: str, name: str) -> str:
    return f"{user_id}/{name}"


def get_keypair(user_id: str, name: str) -> dict[str, Any] | None:
    return table().get(_key(user_id, name))


def count_for_user(user_id: str) -> int:
    prefix = user_id + "/"
    return sum(1 for k in table() if k.startswith(prefix))


def ssh_fingerprint(public_key: str) -> str:
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise ValueError("no key blob")
    blob = base64.b64decode(parts[1], validate=True)
    # the blob starts with the key type as an SSH string; check it matches the prefix
    if len(blob) < 4:
        raise ValueError("short blob")
    n = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + n].decode("ascii", "replace") != parts[0]:
        raise ValueError("type mismatch")
    digest = hashlib.md5(blob).hexdigest()  # noqa: S324 - Nova's fingerprint is MD5
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def x509_fingerprint(pem: str) -> str:
    m = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", pem, re.S)
    if not m:
        raise ValueError("not a PEM certificate")
    der = base64.b64decode("".join(m.group(1).split()), validate=True)
    digest = hashlib.sha1(der).hexdigest()  # noqa: S324 - Nova uses SHA-1 for x509 fingerprints
    return ":".join(digest[i : i + 2] for i in range(0, 40, 2))


def _generate() -> tuple[str, str]:
    exe = shutil.which("ssh-keygen")
    if not exe:
        raise HttpError(
            501,
            "Key pair generation is not available in devcloud (ssh-keygen is not installed); import a public key.",
            "notImplemented",
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "key"
        subprocess.run(
            [exe, "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C", "Generated-by-Nova", "-f", str(path)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return path.read_text(), path.with_suffix(".pub").read_text().strip()


_X509_CONFIG = """distinguished_name  = req_distinguished_name
[req_distinguished_name]
[v3_req_client]
extendedKeyUsage = clientAuth
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:{upn}
"""


def _generate_x509(user_id: str) -> tuple[str, str]:
    """Nova's x509 key pair (nova.crypto.generate_winrm_x509_cert, WinRM certificate auth): a self-signed 10-year
    certificate for CN=<user id> with a clientAuth UPN extension, made by `openssl req -x509`; the private key is
    the PKCS#12 export (empty password), base64-encoded. Returns (private key, certificate PEM)."""
    exe = shutil.which("openssl")
    if not exe:
        raise HttpError(
            501, "x509 key pair generation is not available in devcloud (openssl is not installed).", "notImplemented"
        )
    with tempfile.TemporaryDirectory() as tmp:
        keyfile, conffile = Path(tmp) / "temp.key", Path(tmp) / "temp.conf"
        conffile.write_text(_X509_CONFIG.format(upn=f"{user_id}@localhost"))
        cert = subprocess.run(
            [exe, "req", "-x509", "-nodes", "-days", "3650", "-config", str(conffile), "-newkey", "rsa:2048",
             "-outform", "PEM", "-keyout", str(keyfile), "-subj", f"/CN={user_id}", "-extensions", "v3_req_client"],
            check=True, capture_output=True, timeout=30,
        ).stdout  # fmt: skip
        pkcs12 = subprocess.run(
            [exe, "pkcs12", "-export", "-inkey", str(keyfile), "-password", "pass:"],
            input=cert, check=True, capture_output=True, timeout=30,
        ).stdout  # fmt: skip
    return base64.b64encode(pkcs12).decode("ascii"), cert.decode("utf-8")


def _view(req: Request, kp: dict[str, Any], full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": kp["name"], "public_key": kp["public_key"], "fingerprint": kp["fingerprint"]}
    if mv(req) >= 2:
        out["type"] = kp["type"]
    if full:
        out.update(
            {
                "user_id": kp["user_id"],
                "created_at": kp["created_at"],
                "deleted": False,
                "deleted_at": None,
                "updated_at": None,
                "id": kp["int_id"],
            }
        )
    return out


def _target_user(req: Request) -> str:
    user_id = req.arg("user_id")
    if user_id and mv(req) >= 10:
        if user_id != ctx(req)["user_id"]:
            require_admin(req, "os_compute_api:os-keypairs:index")
        return user_id
    return ctx(req)["user_id"]


@router.route("GET", API + "/os-keypairs")
def list_keypairs(req: Request) -> Response:
    user_id = _target_user(req)
    prefix = user_id + "/"
    with store.lock:
        items = sorted((kp for k, kp in table().items() if k.startswith(prefix)), key=lambda kp: kp["name"])
        body: dict[str, Any] = {}
        if mv(req) >= 35:
            items, nxt = page(req, items, key="name")
            if nxt:
                body["keypairs_links"] = next_link(req, "os-keypairs", nxt)
        body["keypairs"] = [{"keypair": _view(req, kp, False)} for kp in items]
        return json_response(200, dict(reversed(list(body.items()))))


@router.route("GET", API + "/os-keypairs/{name}")
def show_keypair(req: Request, name: str) -> Response:
    user_id = _target_user(req)
    with store.lock:
        kp = get_keypair(user_id, name)
        if kp is None:
            raise not_found(f"Keypair {name} not found for user {user_id}")
        return json_response(200, {"keypair": _view(req, kp, True)})


@router.route("DELETE", API + "/os-keypairs/{name}")
def delete_keypair(req: Request, name: str) -> Response:
    user_id = _target_user(req)
    with store.lock:
        if get_keypair(user_id, name) is None:
            raise not_found(f"Keypair {name} not found for user {user_id}")
        del table()[_key(user_id, name)]
        store.touch()
    return empty_response(204 if mv(req) >= 2 else 202)


@router.route("POST", API + "/os-keypairs")
def create_keypair(req: Request) -> Response:
    v = mv(req)
    body = body_of(req, "keypair")
    allowed = {"name", "public_key"}
    if v >= 2:
        allowed.add("type")
    if v >= 10:
        allowed.add("user_id")
    check_unexpected(body, "keypair", allowed)
    name = check_string(require(body, "keypair", "name"), "name", 1, 255)
    assert name is not None
    pattern = r"^[a-zA-Z0-9 _\-@.]+$" if v >= 92 else r"^[a-zA-Z0-9 _\-]+$"
    if not re.match(pattern, name) or name != name.strip():
        raise invalid("name", name, f"{name!r} does not match '{pattern}'")
    key_type = body.get("type", "ssh")
    if key_type not in ("ssh", "x509"):
        raise invalid("type", key_type, f"{key_type!r} is not one of ['ssh', 'x509']")
    public_key = body.get("public_key")
    if public_key is None and v >= 92:
        raise invalid("keypair", body, "'public_key' is a required property")
    if public_key is not None:
        check_string(public_key, "public_key", 0, 65535)
    caller = ctx(req)
    user_id = body.get("user_id") or caller["user_id"]
    if user_id != caller["user_id"] and not is_admin(req):
        require_admin(req, "os_compute_api:os-keypairs:create")
    with store.lock:
        from devcloud.compute import limits

        quota = limits.project_quota(caller["project_id"])["key_pairs"]
        if quota >= 0 and count_for_user(user_id) >= quota:
            raise HttpError(403, "Quota exceeded, too many key pairs.", "forbidden")
        if get_keypair(user_id, name) is not None:
            raise conflict(f"Key pair '{name}' already exists.")
    private_key = None
    if public_key is None:  # generated below 2.92 (from 2.92 public_key is required)
        private_key, public_key = _generate() if key_type == "ssh" else _generate_x509(user_id)
    try:
        fingerprint = ssh_fingerprint(public_key) if key_type == "ssh" else x509_fingerprint(public_key)
    except (ValueError, binascii.Error, IndexError):
        raise bad("Keypair data is invalid: failed to generate fingerprint") from None
    with store.lock:
        if get_keypair(user_id, name) is not None:
            raise conflict(f"Key pair '{name}' already exists.")
        kp = {
            "name": name,
            "user_id": user_id,
            "public_key": public_key,
            "fingerprint": fingerprint,
            "type": key_type,
            "created_at": now_iso_micro(),
            "int_id": max((k.get("int_id", 0) for k in table().values()), default=0) + 1,
        }
        table()[_key(user_id, name)] = kp
        store.touch()
        out = _view(req, kp, False)
        out["user_id"] = user_id
        if private_key is not None:
            out["private_key"] = private_key
    return json_response(201 if v >= 2 else 200, {"keypair": out})
