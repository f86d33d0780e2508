"""Every template (project and apps, the console page included as it lands) keeps to the CSP and escapes output:
no inline script or event handler, no `hx-on` or htmx filter expressions (allowEval is off), no `javascript:`
URLs, no `|safe` or autoescape off, and scripts only from our own static files.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.cloudharness import ROOT

TEMPLATE_DIRS = [ROOT / "dashboard" / "templates", *sorted((ROOT / "apps").glob("*/templates"))]

RULES = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script> (CSP forbids it)"),
    (re.compile(r"<script[^>]*\bsrc=[\"'](?!\{% static)", re.I), "script not served from our static files"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler attribute"),
    (re.compile(r"\bhx-on", re.I), "hx-on (htmx runs with allowEval=false)"),
    (re.compile(r"\bhx-trigger=[\"'][^\"']*\[", re.I), "hx-trigger filter expression (allowEval=false)"),
    (re.compile(r"\bhx-vars\b|\bjs:", re.I), "evaluated htmx values"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\|\s*safe\b|\{%\s*autoescape\s+off", re.I), "unescaped output"),
    (re.compile(r"<style[\s>]", re.I), "inline <style> (CSP style-src 'self')"),
]


def templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def test_templates_keep_to_the_csp_and_escape_everything():
    found = templates()
    assert len(found) >= 5
    problems = []
    for path in found:
        text = path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in RULES:
                if pattern.search(line):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:120]}")
    assert not problems, "\n".join(problems)


def test_no_python_marks_html_safe():
    """mark_safe/format_html with user data is how escaping gets lost; the apps build HTML in templates only."""
    problems = []
    for path in sorted((ROOT / "apps").rglob("*.py")) + sorted((ROOT / "dashboard").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bmark_safe\(|SafeString\(|\|safe", line) and "noqa: safe-html" not in line:
                problems.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not problems, "\n".join(problems)
