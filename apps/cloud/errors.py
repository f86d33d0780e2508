"""Typed cloud errors with user-safe messages. The only place that knows openstacksdk's exceptions.

Selectors and services wrap their calls in `with cloud_errors("compute"):`; views and the middleware only
ever see `CloudError` and its subclasses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext_lazy as _

SERVICE_NAMES = {
    "compute": _("Compute (Nova)"),
    "image": _("Image (Glance)"),
    "identity": _("Identity (Keystone)"),
    "volume": _("Block Storage (Cinder)"),
    "block-storage": _("Block Storage (Cinder)"),
    "placement": _("Placement"),
    "cloud": _("the cloud"),
}


class CloudError(Exception):
    """A failed cloud call. `message` is safe to show to the user; `status` is the HTTP status to answer."""

    status = 502

    def __init__(self, message: str, *, service: str = "cloud", request_id: str | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.service = service
        self.request_id = request_id
        self.detail = detail

    @property
    def service_name(self) -> str:
        return str(SERVICE_NAMES.get(self.service, self.service))

    def __str__(self) -> str:
        return self.message


class NotFound(CloudError):
    status = 404


class Forbidden(CloudError):
    status = 403


class Conflict(CloudError):
    status = 409


class OverQuota(CloudError):
    status = 403


class BadRequest(CloudError):
    status = 400


class Unavailable(CloudError):
    status = 503


class Timeout(Unavailable):
    status = 503


class AuthExpired(CloudError):
    status = 401


TRANSIENT = (Unavailable,)


def _clean(text: str) -> str:
    """Plain text from a service message: Glance and Placement answer with webob's HTML-ish bodies."""
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _nova_message(exc: Exception) -> str:
    """The message the service itself gave (Nova's `{"conflict": {"message": ...}}`, Keystone's, Glance's)."""
    details = getattr(exc, "details", None)
    if isinstance(details, str) and details.strip():
        return _clean(details)
    message = str(getattr(exc, "message", "") or exc)
    # openstacksdk formats "ConflictException: 409: Client Error for url: ..., <message>"
    match = re.search(r"for url: \S+, (.*)$", message, re.S)
    if match:
        return _clean(match.group(1))
    return _clean(message)


def translate(exc: BaseException, service: str = "cloud") -> CloudError:
    """Map an openstacksdk or keystoneauth exception to a typed CloudError."""
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    if isinstance(exc, CloudError):
        return exc
    name = str(SERVICE_NAMES.get(service, service))
    request_id = getattr(exc, "request_id", None)
    if isinstance(exc, sdk.HttpException):
        status = exc.status_code or 0
        text = _nova_message(exc)
        if status == 401:
            return AuthExpired(str(_("Your session has expired. Please sign in again.")), service=service)
        if status == 404:
            return NotFound(text or str(_("Not found.")), service=service, request_id=request_id)
        if status == 403 and "quota" in text.lower():
            return OverQuota(text, service=service, request_id=request_id)
        if status == 413:
            return OverQuota(text, service=service, request_id=request_id)
        if status == 403:
            return Forbidden(text, service=service, request_id=request_id)
        if status == 409:
            return Conflict(text, service=service, request_id=request_id)
        if status == 400:
            return BadRequest(text, service=service, request_id=request_id)
        if status in (502, 503, 504) or status >= 500:
            return Unavailable(
                str(
                    _("The %(service)s service is not working right now (HTTP %(status)s).")
                    % {"service": name, "status": status}
                ),
                service=service,
                request_id=request_id,
                detail=text,
            )
        return CloudError(text, service=service, request_id=request_id)
    if isinstance(exc, (ks.ConnectTimeout, ks.ConnectFailure)) and "timed out" in str(exc).lower():
        return Timeout(
            str(_("The %(service)s service did not answer in time.") % {"service": name}),
            service=service,
            detail=str(exc),
        )
    if isinstance(exc, (ks.ConnectTimeout,)) or type(exc).__name__ in ("ReadTimeout", "Timeout", "ConnectTimeout"):
        return Timeout(
            str(_("The %(service)s service did not answer in time.") % {"service": name}),
            service=service,
            detail=str(exc),
        )
    if isinstance(exc, (ks.ConnectFailure, ks.DiscoveryFailure, sdk.SDKException)) and not isinstance(
        exc, sdk.HttpException
    ):
        if isinstance(exc, ks.Unauthorized):
            return AuthExpired(str(_("Your session has expired. Please sign in again.")), service=service)
        return Unavailable(
            str(_("The %(service)s service cannot be reached.") % {"service": name}), service=service, detail=str(exc)
        )
    if isinstance(exc, ks.Unauthorized):
        return AuthExpired(str(_("Your session has expired. Please sign in again.")), service=service)
    if isinstance(exc, ks.EndpointNotFound):
        return Unavailable(
            str(_("The %(service)s service is not in this cloud's catalog.") % {"service": name}), service=service
        )
    if isinstance(exc, ks.HttpError):
        status = getattr(exc, "http_status", 0) or 0
        if status >= 500:
            return Unavailable(
                str(
                    _("The %(service)s service is not working right now (HTTP %(status)s).")
                    % {"service": name, "status": status}
                ),
                service=service,
                detail=str(exc),
            )
        return CloudError(str(exc), service=service)
    if isinstance(exc, ks.ClientException):
        return Unavailable(
            str(_("The %(service)s service cannot be reached.") % {"service": name}), service=service, detail=str(exc)
        )
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return Unavailable(
            str(_("The %(service)s service cannot be reached.") % {"service": name}), service=service, detail=str(exc)
        )
    raise exc


@contextmanager
def cloud_errors(service: str) -> Iterator[None]:
    """Run cloud calls; any openstacksdk/keystoneauth error leaves as a typed CloudError naming `service`."""
    try:
        yield
    except CloudError:
        raise
    except Exception as exc:  # translate() re-raises what it does not know (programming errors)
        raise translate(exc, service) from exc
