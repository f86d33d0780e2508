"""Flavors through the Django test client against the cloud under test (devcloud or a real cloud)."""

from __future__ import annotations

import uuid

import openstack
import pytest


def _name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _form(flavor_name: str, **extra: object) -> dict:
    data = {
        "name": flavor_name,
        "flavor_id": "",
        "vcpus": "1",
        "ram": "256",
        "disk": "1",
        "ephemeral": "0",
        "swap": "0",
        "rxtx_factor": "",
        "visibility": "public",
        "description": "",
        "spec_key": ["", ""],
        "spec_value": ["", ""],
    }
    data.update(extra)
    return data


def test_it_lists_flavors_sorted_in_one_cloud_call(admin_client, stratus) -> None:
    response = admin_client.get("/flavors/?sort=-ram")
    assert response.status_code == 200
    html = response.content.decode()
    big, small = stratus.large_flavor, stratus.small_flavor
    assert big in html and small in html
    assert html.index(big) < html.index(small)
    assert "openstack flavor list" in html


def test_it_renders_the_table_partial_for_htmx(member_client) -> None:
    response = member_client.get("/flavors/?sort=vcpus", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="flavor-table"' in html and "<html" not in html


def test_it_forbids_members_to_create_or_delete(member_client) -> None:
    assert member_client.get("/flavors/create/").status_code == 403
    assert member_client.post("/flavors/create/", _form(_name())).status_code == 403
    assert member_client.get("/flavors/1/delete/").status_code == 403
    assert member_client.post("/flavors/1/delete/").status_code == 403
    assert member_client.post("/flavors/1/extra-specs/", {"spec_key": "a", "spec_value": "b"}).status_code == 403
    assert member_client.post("/flavors/1/access/", {"project_id": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vcpus", "0", "greater than or equal to 1"),
        ("name", "x" * 300, "at most 255 characters"),
        ("name", " lead", "cannot start or end with a space"),
        ("ram", "-5", "greater than or equal to 1"),
        ("flavor_id", "bad/id", "An ID may contain only"),
    ],
)
def test_it_shows_bad_input_next_to_the_field(admin_client, stratus, field, value, message) -> None:
    name = _name()
    data = _form(name, **{field: value})
    response = admin_client.post("/flavors/create/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html
    assert message in html
    assert not [f for f in stratus.admin.connect().compute.flavors(is_public=None) if f.name == name]


def test_it_shows_novas_refusal_of_a_duplicate_name_next_to_the_field(admin_client, stratus) -> None:
    response = admin_client.post("/flavors/create/", _form("m1.tiny"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_name-error"' in html
    assert "already exists" in html
    assert len([f for f in stratus.admin.connect().compute.flavors(is_public=None) if f.name == "m1.tiny"]) == 1


def test_it_rejects_bad_extra_spec_keys_before_the_call(admin_client, stratus) -> None:
    name = _name()
    response = admin_client.post("/flavors/create/", _form(name, spec_key=["bad/key", ""], spec_value=["1", ""]))
    assert response.status_code == 400
    assert "is not valid" in response.content.decode()
    assert not [f for f in stratus.admin.connect().compute.flavors(is_public=None) if f.name == name]


def test_it_adds_a_spec_row_without_javascript(admin_client) -> None:
    response = admin_client.post("/flavors/create/", _form("keep-me", add_row="1"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('name="spec_key"') == 4
    assert 'value="keep-me"' in html
    assert 'class="error"' not in html


def test_it_creates_a_private_flavor_edits_specs_and_access_then_deletes(admin_client, stratus) -> None:
    conn = stratus.admin.connect()
    demo = conn.identity.find_project(stratus.member.project_name)
    name = _name("priv")
    response = admin_client.post(
        "/flavors/create/",
        _form(
            name,
            vcpus="2",
            ram="1024",
            visibility="private",
            projects=[demo.id],
            description="for tests",
            spec_key=["hw:cpu_policy", "quota:disk_read_iops_sec", ""],
            spec_value=["dedicated", "500", ""],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    flavor = next(f for f in conn.compute.flavors(is_public=None) if f.name == name)
    assert flavor.is_public is False
    assert flavor.extra_specs == {"hw:cpu_policy": "dedicated", "quota:disk_read_iops_sec": "500"}
    assert [a["tenant_id"] for a in conn.compute.get_flavor_access(flavor)] == [demo.id]
    page = admin_client.get(response["Location"]).content.decode()
    assert name in page and "hw:cpu_policy" in page and stratus.member.project_name in page

    # edit the specs: change one, remove one, add one
    response = admin_client.post(
        f"/flavors/{flavor.id}/extra-specs/",
        {
            "spec_key": ["hw:cpu_policy", "quota:disk_read_iops_sec", "hw:mem_page_size"],
            "spec_value": ["shared", "", "large"],
        },
    )
    assert response.status_code == 302
    assert conn.compute.get_flavor(flavor.id).extra_specs == {"hw:cpu_policy": "shared", "hw:mem_page_size": "large"}

    # access: remove, then grant again
    admin_client.post(f"/flavors/{flavor.id}/access/", {"project_id": demo.id, "action": "remove"})
    assert list(conn.compute.get_flavor_access(flavor)) == []
    admin_client.post(f"/flavors/{flavor.id}/access/", {"project_id": demo.id})
    assert [a["tenant_id"] for a in conn.compute.get_flavor_access(flavor)] == [demo.id]

    confirm = admin_client.get(f"/flavors/{flavor.id}/delete/")
    assert confirm.status_code == 200 and "No instance uses this flavor" in confirm.content.decode()
    response = admin_client.post(f"/flavors/{flavor.id}/delete/")
    assert response.status_code == 302
    assert not [f for f in conn.compute.flavors(is_public=None) if f.name == name]


def test_it_hides_admin_controls_from_members(member_client, stratus) -> None:
    html = member_client.get("/flavors/").content.decode()
    assert "Create flavor" not in html
    flavor = openstack.connect(cloud=stratus.member.name).compute.find_flavor(stratus.small_flavor)
    detail = member_client.get(f"/flavors/{flavor.id}/").content.decode()
    assert stratus.small_flavor in detail and "Delete" not in detail


def test_the_list_costs_one_cloud_call(member_client, cloud_calls) -> None:
    member_client.get("/flavors/")  # version discovery is cached per process
    with cloud_calls.recording() as calls:
        assert member_client.get("/flavors/?sort=-disk").status_code == 200
    assert len(calls) == 1 and calls[0].startswith("GET compute /flavors/detail"), calls


def test_it_warns_before_deleting_a_flavor_in_use(admin_client, stratus) -> None:
    admin = stratus.admin.connect()
    name = _name("used")
    response = admin_client.post("/flavors/create/", _form(name, ram="128"))
    assert response.status_code == 302
    flavor = next(f for f in admin.compute.flavors(is_public=None) if f.name == name)
    member = openstack.connect(cloud=stratus.member.name)
    image = member.image.find_image(stratus.image_name, ignore_missing=False)
    try:
        member.compute.create_server(name=name, flavor_id=flavor.id, image_id=image.id, networks="none")
        html = admin_client.get(f"/flavors/{flavor.id}/delete/").content.decode()
        assert "1 instance uses this flavor" in html
        assert "1 instance uses this flavor" in admin_client.get(f"/flavors/{flavor.id}/").content.decode()
    finally:
        for s in member.compute.servers(name=f"^{name}$"):
            member.compute.delete_server(s)
            member.compute.wait_for_delete(s, interval=0.2, wait=60)
        admin.compute.delete_flavor(flavor)


def test_it_creates_with_a_given_id_and_shows_a_taken_id_next_to_the_field(admin_client, stratus) -> None:
    conn = stratus.admin.connect()
    flavor_id = f"id-{uuid.uuid4().hex[:6]}"
    name = _name()
    assert admin_client.post("/flavors/create/", _form(name, flavor_id=flavor_id)).status_code == 302
    assert conn.compute.get_flavor(flavor_id).name == name
    other = _name()
    response = admin_client.post("/flavors/create/", _form(other, flavor_id=flavor_id))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_flavor_id-error"' in html and "already exists" in html
    assert not [f for f in conn.compute.flavors(is_public=None) if f.name == other]
    conn.compute.delete_flavor(flavor_id)


def test_a_flavor_made_or_deleted_here_reaches_the_launch_form_at_once(admin_client, member_client, stratus) -> None:
    """The launch form keeps the project's flavors two minutes; a flavor made or deleted in Stratus is seen in it on
    the next load, not after that."""
    member_client.get("/instances/launch/")  # the member's flavors now cached
    name = _name("t-gen")
    assert admin_client.post("/flavors/create/", _form(name)).status_code == 302
    (flavor,) = [f for f in stratus.admin.connect().compute.flavors() if f.name == name]
    try:
        assert name in member_client.get("/instances/launch/").content.decode()
        assert admin_client.post(f"/flavors/{flavor.id}/delete/").status_code == 302
        assert name not in member_client.get("/instances/launch/").content.decode()
    finally:
        stratus.admin.connect().compute.delete_flavor(flavor.id, ignore_missing=True)
