"""Template context for the header: who is signed in, where, with which role; projects and regions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def account(request: HttpRequest) -> dict[str, Any]:
    creds = getattr(request, "creds", None)
    if creds is None:
        return {"account": None}
    data = getattr(request, "account_data", {}) or {}
    return {
        "account": {
            "user_name": creds.user_name,
            "user_id": creds.user_id,
            "project_name": creds.project_name,
            "project_id": creds.project_id,
            "roles": creds.roles,
            "role": "admin" if creds.is_admin else (creds.roles[0] if creds.roles else ""),
            "is_admin": creds.is_admin,
            "has_network": any(s.get("type") == "network" for s in creds.body.get("catalog", [])),
            "has_volume": any(s.get("type") in ("block-storage", "volumev3") for s in creds.body.get("catalog", [])),
            "region": creds.region,
            "regions": creds.regions,
            "projects": data.get("projects", []),
            "can_switch_project": data.get("method") == "password",
        }
    }
