"""The in-page confirmation dialog (templates/components/confirm_dialog.html, static/js/stratus.js), as a person
answers it."""

from __future__ import annotations

from playwright.sync_api import expect


def confirm(page, action: str) -> None:  # a playwright Page
    """Answer the confirmation of `action` (its title and its confirm button say the action) with that button."""
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(action)
    dialog.get_by_role("button", name=action, exact=True).click()
    expect(dialog).to_be_hidden()
