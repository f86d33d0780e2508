"""Typed cloud errors with user-safe messages. The only place that knows openstacksdk's exceptions.

Selectors and services wrap their calls in `with cloud_errors("compute"):`; views and the middleware only
ever see `CloudError` and its subclasses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext_lazy as _

SERVICE_NAMES = {
    "compute": _("Compute (Nova)"),
    "image": _("Image (Glance)"),
    "identity": _("Identity (Keystone)"),
    "volume": _("Block Storage (Cinder)"),
    "block-storage": _("Block Storage (Cinder)"),
    "block_storage": _("Block Storage (Cinder)"),
    "placement": _("Placement"),
    "network": _("Networking (Neutron)"),
    "cloud": _("the cloud"),
}


class CloudError(Exception):
    """A failed cloud call. `message` is safe to show to the user; `status` is the HTTP status to answer."""

    status = 502
    # The message's arguments, frozen for translating it later (apps/operations/i18n.py), when it was made from a
    # translatable text: an operation row stores the text in English and shows it in the reader's language.
    args_for_message: dict[str, Any] | None = None

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


def _expired(service: str) -> AuthExpired:
    return AuthExpired(str(_("Your session has expired. Please sign in again.")), service=service)


def _failing(service: str, name: str, status: int, *, request_id: str | None = None, detail: str = "") -> Unavailable:
    message = _("The %(service)s service is not working right now (HTTP %(status)s).")
    return Unavailable(
        str(message) % {"service": name, "status": status}, service=service, request_id=request_id, detail=detail
    )


def _unreachable(service: str, name: str, exc: BaseException) -> Unavailable:
    message = _("The %(service)s service cannot be reached.") % {"service": name}
    return Unavailable(str(message), service=service, detail=str(exc))


def _http(exc: Exception, service: str, name: str) -> CloudError:
    """An HTTP answer from the service: keep its own message, typed by status."""
    status = getattr(exc, "status_code", 0) or 0
    text = _nova_message(exc)
    request_id = getattr(exc, "request_id", None)
    if status == 401:
        return _expired(service)
    if status >= 500:
        return _failing(service, name, status, request_id=request_id, detail=text)
    kind = {404: NotFound, 409: Conflict, 400: BadRequest, 413: OverQuota}.get(status, CloudError)
    if status == 403:
        kind = OverQuota if "quota" in text.lower() else Forbidden
    if status == 404 and not text:
        text = str(_("Not found."))
    return kind(text, service=service, request_id=request_id)


def translate(exc: BaseException, service: str = "cloud") -> CloudError:
    """Map an openstacksdk or keystoneauth exception to a typed CloudError."""
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    if isinstance(exc, CloudError):
        return exc
    name = str(SERVICE_NAMES.get(service, service))
    if isinstance(exc, sdk.HttpException):
        return _http(exc, service, name)
    timed_out = isinstance(exc, ks.ConnectTimeout) or type(exc).__name__ in ("ReadTimeout", "Timeout")
    if timed_out or (isinstance(exc, ks.ConnectFailure) and "timed out" in str(exc).lower()):
        message = _("The %(service)s service did not answer in time.") % {"service": name}
        return Timeout(str(message), service=service, detail=str(exc))
    if isinstance(exc, ks.Unauthorized):
        return _expired(service)
    if isinstance(exc, ks.EndpointNotFound):
        message = _("The %(service)s service is not in this cloud's catalog.") % {"service": name}
        return Unavailable(str(message), service=service)
    if isinstance(exc, ks.HttpError):
        status = getattr(exc, "http_status", 0) or 0
        if status >= 500:
            return _failing(service, name, status, detail=str(exc))
        return CloudError(str(exc), service=service)
    if isinstance(exc, (ks.ClientException, sdk.SDKException, ConnectionError, TimeoutError, OSError)):
        return _unreachable(service, name, exc)
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
