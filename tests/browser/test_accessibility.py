"""Accessibility: axe-core checks every page (signed out, as a member, as an admin, with data) in the light and
the dark theme, and in Vietnamese: no serious or critical violation (contrast, names, labels, landmarks…).

axe-core is vendored for the tests only (tests/browser/assets/axe-core/, from npm, see its README); pages never
load it. The pages' CSP is script-src 'self', which refuses an injected <script> tag, so it is added as an init
script of the browser context (Playwright runs those outside the page's CSP) rather than with add_script_tag;
the CSP itself stays on, so the check sees the pages as a person's browser does.
"""

from __future__ import annotations

import pytest

from tests.browser.tour import AXE, RUN_AXE, screenshot_dir, visit_all

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.mark.parametrize(("theme", "lang"), [("light", "en"), ("dark", "en"), ("light", "vi")])
def test_every_page_has_no_serious_accessibility_violation(browser, live_server, stratus, tour, theme, lang):
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-US", color_scheme=theme, reduced_motion="reduce"
    )
    context.add_init_script(path=str(AXE))
    shots = screenshot_dir(theme if lang == "en" else lang)
    problems: list[str] = []
    seen = 0
    try:
        for who, path, page in visit_all(context, live_server.url, stratus, tour, lang=lang, shots=shots):
            seen += 1
            for v in page.evaluate(RUN_AXE):
                nodes = "\n    ".join(v["nodes"])
                problems.append(f"{who} {path}: {v['impact']} {v['id']} ({v['help']})\n    {nodes}")
    finally:
        context.close()
    assert seen >= 30, f"the tour saw only {seen} pages"
    assert not problems, "\n".join(problems)
