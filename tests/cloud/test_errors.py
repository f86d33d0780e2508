"""The translation of openstacksdk/keystoneauth exceptions into typed, user-safe cloud errors (a pure function)."""

from __future__ import annotations

import pytest
from keystoneauth1 import exceptions as ks
from openstack import exceptions as sdk

from apps.cloud import errors


def http(status: int, details: str) -> sdk.HttpException:
    exc = sdk.HttpException(message=f"Client Error for url: http://x/compute/v2.1/servers, {details}", details=details)
    exc.status_code = status
    return exc


@pytest.mark.parametrize(
    ("status", "details", "kind"),
    [
        (404, "Instance abc could not be found.", errors.NotFound),
        (403, "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances", errors.OverQuota),
        (403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.", errors.Forbidden),
        (409, "Cannot 'os-stop' instance abc while it is in vm_state stopped", errors.Conflict),
        (400, "Invalid flavorRef provided.", errors.BadRequest),
        (413, "Maximum number of volumes allowed (10) exceeded", errors.OverQuota),
        (401, "The request you have made requires authentication.", errors.AuthExpired),
    ],
)
def test_it_keeps_the_services_own_message(status, details, kind):
    err = errors.translate(http(status, details), "compute")
    assert type(err) is kind
    if kind is not errors.AuthExpired:
        assert err.message == details
    assert err.service == "compute"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_unavailable_and_name_the_service(status):
    err = errors.translate(http(status, "boom"), "image")
    assert isinstance(err, errors.Unavailable)
    assert err.message == f"The Image (Glance) service is not working right now (HTTP {status})."


def test_unreachable_and_slow_services_are_named():
    assert errors.translate(ks.ConnectFailure("refused"), "placement").message == (
        "The Placement service cannot be reached."
    )
    err = errors.translate(ks.ConnectTimeout("timed out"), "compute")
    assert isinstance(err, errors.Timeout)
    assert err.message == "The Compute (Nova) service did not answer in time."


def test_webob_html_is_turned_into_text():
    err = errors.translate(
        http(404, "The resource could not be found.<br /><br />\nNo image found with ID X\n\n"), "image"
    )
    assert err.message == "The resource could not be found. No image found with ID X"


def test_programming_errors_are_not_swallowed():
    with pytest.raises(KeyError), errors.cloud_errors("compute"):
        raise KeyError("bug")
