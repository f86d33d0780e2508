"""Instances pages through the Django client against the cloud under test (no browser, no worker)."""

from __future__ import annotations

import openstack


def _conn():
    return openstack.connect(cloud="devcloud-demo")


def test_it_renders_the_empty_list_or_table(member_client):
    response = member_client.get("/instances/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Launch instance" in body


def test_it_renders_the_launch_page(member_client):
    response = member_client.get("/instances/launch/")
    assert response.status_code == 200, response.content.decode()[:3000]
    body = response.content.decode()
    assert "openstack server create" in body
