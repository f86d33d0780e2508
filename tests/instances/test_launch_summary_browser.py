"""The launch form's summary: what the launch uses, its CLI and the Launch button stay beside the form (in view
while the person picks a flavor far down the page), and the chosen flavor's use shows as soon as it is chosen,
without a reload, by mouse and by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.templatetags.stratus import mib
from tests.browser.shots import look

pytestmark = [pytest.mark.browser]


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_the_chosen_flavors_use_shows_beside_the_launch_button(member_page, live_server, stratus, demo_conn):
    page = member_page
    small = demo_conn.compute.find_flavor(stratus.small_flavor, ignore_missing=False)
    page.goto(live_server.url + "/instances/launch/")
    page.locator("#id_image_id").select_option(label=stratus.image_name)
    quota = page.locator("section.quota-card")
    this_launch = {key: quota.locator(f"tr[data-quota={key}] td").nth(1) for key in ("instances", "cores", "ram")}
    choice = quota.locator("[data-role=choice]")
    expect(this_launch["cores"]).to_have_text("+0")  # no flavor chosen yet
    expect(choice).to_have_text("Choose a flavor to see what it uses.")

    # A person scrolls down to the flavors and picks one: the use shows at once, beside it, by the Launch button.
    radio = page.get_by_label(stratus.small_flavor, exact=True)
    radio.check()
    expect(choice).to_have_text(f"1 × {small.name}")
    expect(this_launch["instances"]).to_have_text("+1")
    expect(this_launch["cores"]).to_have_text(f"+{small.vcpus}")
    expect(this_launch["ram"]).to_have_text(f"+{mib(small.ram)}")
    launch = page.get_by_role("button", name="Launch", exact=True)
    assert _in_view(page, radio), "the flavor just picked is in view"
    assert _in_view(page, quota), "what the launch uses is in view beside the flavor picker"
    assert _in_view(page, launch), "the Launch button is in view beside the flavor picker"
    assert quota.bounding_box()["x"] > page.locator("table.flavors").bounding_box()["x"] + 300, "beside, not below"
    card, table = quota.bounding_box(), quota.locator("table").bounding_box()
    assert table["x"] + table["width"] <= card["x"] + card["width"], "the summary's table fits in its card"
    expect(page.locator("#launch-summary .cli code")).to_contain_text(f"--flavor {stratus.small_flavor}")

    # The count multiplies it; the CLI follows.
    page.get_by_label("Count").fill("2")
    page.get_by_label("Count").blur()
    expect(choice).to_have_text(f"2 × {small.name}")
    expect(this_launch["instances"]).to_have_text("+2")
    expect(this_launch["cores"]).to_have_text(f"+{2 * small.vcpus}")
    expect(this_launch["ram"]).to_have_text(f"+{mib(2 * small.ram)}")
    expect(page.locator("#launch-summary .cli code")).to_contain_text("--min 2 --max 2")

    # By keyboard: the arrow keys move through the flavors; the use follows and the focus stays on the flavor.
    radio.focus()
    page.keyboard.press("ArrowDown")
    chosen_id = page.evaluate("document.querySelector('input[name=flavor_id]:checked').value")
    chosen = demo_conn.compute.get_flavor(chosen_id)
    assert chosen.id != small.id
    expect(choice).to_have_text(f"2 × {chosen.name}")
    expect(this_launch["cores"]).to_have_text(f"+{2 * chosen.vcpus}")
    expect(this_launch["ram"]).to_have_text(f"+{mib(2 * chosen.ram)}")
    expect(page.locator(f"input[name=flavor_id][value='{chosen.id}']")).to_be_focused()
    look(page, "instances-launch-summary", full_page=False)
