"""Pictures of particular states (an error next to a field, a dialog open) for a person to look at.

A normal run takes none: a screenshot checks nothing, costs time, and Chromium can refuse one under load
("Unable to capture screenshot"), which must not fail a test about something else. With STRATUS_SCREENSHOTS set
(`make screenshots`, or `STRATUS_SCREENSHOTS=.state/screenshots pytest tests/instances`), each goes to
$STRATUS_SCREENSHOTS/states/<name>.png.
"""

from __future__ import annotations

from tests.browser.tour import screenshot_dir


def look(page, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of the page as it is now, when pictures were asked for."""
    d = screenshot_dir("states")
    if d is not None:
        page.screenshot(path=d / f"{name}.png", full_page=full_page)
