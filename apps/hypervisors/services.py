"""Writes for the admin hypervisor pages: disabling and enabling a compute service, as operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.cloud.connection import Credentials
from apps.hypervisors.selectors import ComputeService

if TYPE_CHECKING:
    from apps.operations.models import Operation

TARGET_TYPE = "compute_service"
REASON_MAX = 255


def disable_service(*, creds: Credentials, service: ComputeService, reason: str) -> Operation:
    """Disable a nova-compute service (no new instances are scheduled there). Raises DispatchError."""
    from apps.operations.services import dispatch

    return dispatch(
        creds=creds,
        kind="service.disable",
        target_type=TARGET_TYPE,
        target_id=service.id,
        target_name=service.host,
        params={"reason": reason.strip()[:REASON_MAX]},
    )


def enable_service(*, creds: Credentials, service: ComputeService) -> Operation:
    """Enable a nova-compute service again. Raises DispatchError."""
    from apps.operations.services import dispatch

    return dispatch(
        creds=creds,
        kind="service.enable",
        target_type=TARGET_TYPE,
        target_id=service.id,
        target_name=service.host,
    )
