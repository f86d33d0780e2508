"""The Activity table is laid out for its content: an operation's name, its state, who, when and how long each
stay on one line (they had wrapped onto two while the result column stood half empty), on a laptop-sized screen
and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# How many lines each cell's content takes (its height over the cell's line height), except the result's; in the
# operation's cell, its name (the kind and target are a second line by design).
LINES_JS = """() => [...document.querySelectorAll('table.activity tbody tr')].map(tr => [...tr.cells].map(td => {
  if (td.classList.contains('op-progress') || td.offsetParent === null) return null;
  const first = td.firstElementChild && td.firstElementChild.tagName === 'A' ? td.firstElementChild : td;
  const range = document.createRange(); range.selectNodeContents(first);
  return Math.round(range.getBoundingClientRect().height / parseFloat(getComputedStyle(td).lineHeight));
}))"""


@pytest.mark.parametrize("width", [1024, 390])
def test_the_activity_table_keeps_each_operation_on_one_line(browser, live_server, stratus, tour, width):
    context = browser.new_context(viewport={"width": width, "height": 860}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in_page(page, live_server.url, stratus.member)
        page.goto(live_server.url + "/activity/")
        rows = page.locator("table.activity tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first.locator("td.op-progress")).not_to_be_empty()
        lines = page.evaluate(LINES_JS)
        wrapped = [(r, c, n) for r, row in enumerate(lines) for c, n in enumerate(row) if n is not None and n > 1]
        assert not wrapped, f"cells on more than one line (row, column, lines): {wrapped}"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    finally:
        context.close()
