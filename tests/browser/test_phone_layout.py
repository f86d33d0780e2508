"""Every page on a phone (390 px wide), in English and in Vietnamese (whose words are longer): nothing scrolls
sideways, command lines keep their words whole (they scroll inside their own box), and the navigation opens
from the menu button, by mouse and by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.tour import AXE, RUN_AXE, screenshot_dir, visit_all
from tests.conftest import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

PHONE = {"width": 390, "height": 844}

# What sticks out past the right edge of the viewport, for the failure message (the outermost elements only).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect(), p = el.parentElement;
    if (r.width === 0 || r.right <= width + 0.5) continue;
    if (p && p !== document.body && p.getBoundingClientRect().right > width + 0.5) continue;
    let a = p, clipped = false;
    for (; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= width + 0.5) clipped = true;
    if (clipped) continue;
    out.push(el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className.trim() ?
      '.' + el.className.trim().split(/\\s+/).join('.') : '') + ` (right edge ${Math.round(r.right)} px)`);
  }
  return out.slice(0, 5);
}"""

# Command lines: each <code>/<pre> of a CLI block keeps one command on its lines (white-space pre or nowrap) and
# a one-line command stays one line high.
CLI_JS = """() => [...document.querySelectorAll('.cli-list code, details.cli pre code')].map(el => ({
  text: el.textContent.slice(0, 60), whiteSpace: getComputedStyle(el).whiteSpace,
  height: el.getBoundingClientRect().height, lines: el.textContent.split('\\n').length }))"""


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_every_page_fits_a_phone_without_sideways_scrolling(browser, live_server, stratus, tour, lang):
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    shots = screenshot_dir("phone" if lang == "en" else "phone-vi")
    problems: list[str] = []
    seen = 0
    try:
        for who, path, page in visit_all(context, live_server.url, stratus, tour, lang=lang, shots=shots):
            seen += 1
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{who} {path}: {width} px wide; sticking out: {page.evaluate(OVERFLOW_JS)}")
            if (who, path, lang) == ("member", "/instances/", "en"):  # the columns kept (the others hidden by position)
                heads = page.locator("table.servers thead th:visible")
                expect(heads).to_have_text(["", "Name", "Status", "Actions"])
                # A row's Actions menu opens whole on the screen, widening nothing.
                page.locator("tr.server-row").first.get_by_text("Actions", exact=True).click()
                menu = page.get_by_role("menu").first
                expect(menu).to_be_visible()
                box = menu.bounding_box()
                if box["x"] < 0 or box["x"] + box["width"] > PHONE["width"]:
                    problems.append(f"{who} {path}: the row menu sticks out of the screen: {box}")
                if page.evaluate("document.scrollingElement.scrollWidth") > PHONE["width"]:
                    problems.append(f"{who} {path}: the open row menu widens the page")
                page.keyboard.press("Escape")
                expect(menu).to_be_hidden()
            # The CLI blocks, opened to be read, keep commands whole.
            page.evaluate("document.querySelectorAll('details.cli').forEach(d => { d.open = true; })")
            for block in page.evaluate(CLI_JS):
                if block["whiteSpace"] not in ("pre", "nowrap"):
                    problems.append(f"{who} {path}: CLI {block['text']!r} wraps (white-space {block['whiteSpace']})")
                elif block["height"] > 30 * block["lines"]:
                    problems.append(f"{who} {path}: CLI {block['text']!r} is {block['height']:.0f} px high")
    finally:
        context.close()
    assert seen >= 30, f"the tour saw only {seen} pages"
    assert not problems, "\n".join(problems)


def test_the_navigation_opens_from_the_menu_button_on_a_phone(browser, live_server, stratus):
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    context.add_init_script(path=str(AXE))  # see test_accessibility.py
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in_page(page, live_server.url, stratus.member)
        nav = page.get_by_role("navigation", name="Main")
        menu = page.get_by_role("button", name="Menu")
        # Collapsed: the links are out of sight (and out of the tab order) until the button opens them.
        expect(menu).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav.get_by_role("link", name="Instances")).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="Instances")).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(RUN_AXE) == [], "no serious accessibility violation with the menu open"
        nav.get_by_role("link", name="Key pairs").click()
        expect(page.get_by_role("heading", name="Key pairs", level=1)).to_be_visible()
        expect(nav.get_by_role("link", name="Instances")).to_be_hidden()
        # By keyboard: Enter opens it, Tab reaches the first link, Escape closes it and gives focus back.
        menu.focus()
        page.keyboard.press("Enter")
        expect(menu).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Tab")
        expect(nav.get_by_role("link", name="Overview")).to_be_focused()
        page.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(menu).to_be_focused()
        expect(nav.get_by_role("link", name="Overview")).to_be_hidden()
        # On a wide screen the navigation is always there and the button is not.
        page.set_viewport_size({"width": 1280, "height": 860})
        expect(menu).to_be_hidden()
        expect(nav.get_by_role("link", name="Instances")).to_be_visible()
    finally:
        context.close()
