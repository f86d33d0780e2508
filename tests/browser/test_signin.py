"""What a person does at the door: sign in (member, admin), a wrong password, switch project and language,
sign out — in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.shots import look
from tests.conftest import sign_in_page

pytestmark = pytest.mark.browser


def test_member_signs_in_switches_project_and_language_and_signs_out(page, live_server, stratus):
    page.set_default_timeout(15000)
    page.goto(live_server.url + "/overview/")
    expect(page).to_have_url(live_server.url + "/auth/login/?next=%2Foverview%2F")
    # A wrong password: an error on the form, not a crash.
    member = stratus.member
    page.get_by_label("User name", exact=True).fill(member.username)
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".field.invalid .error")).to_have_text("The user name or password is not right.")
    look(page, "stratus-login-error", full_page=False)

    page.get_by_label("Password", exact=True).fill(member.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/overview/")
    header = page.locator("header.topbar")
    expect(header.locator(".user-name")).to_have_text(member.username)
    expect(header.locator(".badge.role")).to_have_text("member")
    expect(page.locator("#project-switch option:checked")).to_have_text(member.project_name)
    expect(page.locator(".admin-nav")).to_have_count(0)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    look(page, "stratus-overview")

    # Switch project: the select submits itself (JavaScript) and the page says where we are now.
    if stratus.second_project:
        other = stratus.second_project
        page.locator("#project-switch").select_option(label=other)
        # (Keystone scopes a new token, then the overview loads: seconds on a loaded real cloud.)
        expect(page.locator(".toast")).to_contain_text(f"Now working in project {other}.", timeout=30_000)
        expect(page.locator("#project-switch option:checked")).to_have_text(other)

    # Switch language; the header keeps its one line (the project label "Dự án" had wrapped onto two).
    label = page.locator("label[for=project-switch]")
    one_line = label.bounding_box()["height"]
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Tổng quan")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(label).to_have_text("Dự án")
    assert label.bounding_box()["height"] == one_line
    look(page, "stratus-overview-vi")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # Sign out from the user menu.
    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator(".toast")).to_contain_text("You have signed out.")
    page.goto(live_server.url + "/overview/")
    expect(page).to_have_url(live_server.url + "/auth/login/?next=%2Foverview%2F")


def test_admin_signs_in_and_sees_the_admin_navigation(page, live_server, stratus):
    page.set_default_timeout(15000)
    sign_in_page(page, live_server.url, stratus.admin)
    expect(page.locator("header .user-name")).to_have_text("admin")
    expect(page.locator("header .badge.role")).to_have_text("admin")
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()


def test_a_person_who_keeps_mistyping_is_told_to_wait_then_signs_in_from_another_network(
    page, browser, live_server, stratus, settings
):
    """Five wrong passwords from one address: the form says to wait (in English and in Vietnamese), and the same
    person signs in at once from another network. The addresses reach Stratus as a trusted proxy would send them."""
    from apps.accounts import throttle

    settings.STRATUS_TRUSTED_PROXIES = 1
    member = stratus.member
    cafe, home = "198.51.100.91", "198.51.100.92"
    try:
        page.set_default_timeout(15000)
        page.set_extra_http_headers({"X-Forwarded-For": cafe})
        page.goto(live_server.url + "/auth/login/")
        for n in range(settings.STRATUS_LOGIN_MAX_FAILURES):
            page.get_by_label("User name", exact=True).fill(member.username)
            page.get_by_label("Password", exact=True).fill(f"typo-{n}")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator(".field.invalid .error")).to_have_text("The user name or password is not right.")
        page.get_by_label("User name", exact=True).fill(member.username)
        page.get_by_label("Password", exact=True).fill(member.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".login .alert.error")).to_have_text(
            "Too many failed sign-in attempts from your address. Wait 5 minutes, then try again."
        )
        look(page, "stratus-login-blocked", full_page=False)
        page.get_by_role("button", name="Tiếng Việt").click()
        page.get_by_label("Tên người dùng", exact=True).fill(member.username)
        page.get_by_label("Mật khẩu", exact=True).fill(member.password)
        page.locator(".login button[type=submit]").click()
        expect(page.locator(".login .alert.error")).to_have_text(
            "Có quá nhiều lần đăng nhập thất bại từ địa chỉ của bạn. Hãy đợi 5 phút rồi thử lại."
        )
        page.get_by_role("button", name="English").click()

        # At home (another address) the same person signs in straight away.
        other = browser.new_page(extra_http_headers={"X-Forwarded-For": home})
        other.set_default_timeout(15000)
        sign_in_page(other, live_server.url, member)
        expect(other.locator("header .user-name")).to_have_text(member.username)
        other.close()
    finally:
        for address in (cafe, home):
            throttle.reset(address=address, domain="Default", username=member.username)


@pytest.mark.devcloud_only
def test_where_the_cloud_does_not_rescope_a_switch_means_signing_in_again(page, live_server, stratus, devcloud):
    """A Keystone with `[token] allow_rescope_scoped_token = false` refuses to exchange the session's scoped token
    (403; devcloud set up so): the person is asked to sign in again, and lands in the project they chose."""
    page.set_default_timeout(15000)
    member, other = devcloud.member, devcloud.second_project
    sign_in_page(page, live_server.url, member)
    devcloud.control("identity-config", {"allow_rescope_scoped_token": False})
    try:
        page.locator("#project-switch").select_option(label=other)
        expect(page.locator(".toast")).to_contain_text(
            f"To work in project {other}, sign in again: this cloud does not switch projects within a session."
        )
        expect(page).to_have_url(live_server.url + "/auth/login/")
        page.get_by_label("User name", exact=True).fill(member.username)
        page.get_by_label("Password", exact=True).fill(member.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/overview/")
        expect(page.locator("#project-switch option:checked")).to_have_text(other)
    finally:
        devcloud.control("identity-config", {"allow_rescope_scoped_token": True})
