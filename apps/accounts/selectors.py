"""What the API access page reads: the catalog's endpoints for the session's region and interface, and a
clouds.yaml for the user. From the session's token only: no cloud call."""

from __future__ import annotations

from typing import Any

import yaml
from django.conf import settings

from apps.cloud.connection import Credentials


def endpoints(creds: Credentials) -> list[dict[str, Any]]:
    """Each service of the catalog with its URL for this region and interface ("" when it has none there)."""
    found = [
        {
            "type": service.get("type", ""),
            "name": service.get("name", ""),
            "url": next(
                (
                    e["url"]
                    for e in service.get("endpoints", [])
                    if e.get("interface") == creds.interface and (e.get("region_id") or e.get("region")) == creds.region
                ),
                "",
            ),
        }
        for service in creds.body.get("catalog", [])
    ]
    return sorted(found, key=lambda e: e["type"])


def clouds_yaml(creds: Credentials) -> str:
    """A clouds.yaml for the signed-in user (no secret: the password is asked by the client)."""
    domain = creds.body.get("user", {}).get("domain", {}).get("name", settings.OS_USER_DOMAIN_NAME)
    cloud = {
        "auth": {
            "auth_url": settings.OS_AUTH_URL,
            "username": creds.user_name,
            "project_id": creds.project_id,
            "project_name": creds.project_name,
            "user_domain_name": domain,
        },
        "region_name": creds.region,
        "interface": creds.interface,
        "identity_api_version": 3,
    }
    return yaml.safe_dump({"clouds": {"stratus": cloud}}, sort_keys=False, allow_unicode=True)
