"""The Vietnamese catalogues are complete: every .po file has a translation for every message, none fuzzy,
and its compiled .mo is up to date; and no user-visible string in the code is missing from a catalogue."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.cloudharness import ROOT

ENTRY = re.compile(
    r'(?P<comments>(?:^#.*\n)*)(?:msgctxt (?P<ctx>".*")\n)?'
    r'msgid (?P<id>(?:".*"\n?)+)(?:msgid_plural (?:".*"\n?)+)?(?P<strs>(?:msgstr(?:\[\d+\])? (?:".*"\n?)+)+)',
    re.M,
)
MSGSTR = re.compile(r'msgstr(?:\[\d+\])? ((?:".*"\n?)+)')


def catalogues() -> list[Path]:
    found = [ROOT / "dashboard/locale/vi/LC_MESSAGES/django.po"]
    found += sorted((ROOT / "apps").glob("*/locale/vi/LC_MESSAGES/django.po"))
    return [p for p in found if p.exists()]


def unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def entries(po: Path) -> list[tuple[str, str, str]]:
    """(msgid, msgstr, flags); a msgid with a context is keyed as gettext keys it: "context\\x04msgid". A plural
    message counts as translated only when every one of its forms is (its msgstr is then the first form); the
    flags ("fuzzy", …) are read wherever they stand among the entry's comments."""
    text = po.read_text(encoding="utf-8")
    found = []
    for m in ENTRY.finditer(text):
        forms = [unquote(f) for f in MSGSTR.findall(m["strs"])]
        flags = ", ".join(line[2:].strip() for line in m["comments"].splitlines() if line.startswith("#,"))
        key = (unquote(m["ctx"]) + "\x04" if m["ctx"] else "") + unquote(m["id"])
        found.append((key, forms[0] if all(forms) else "", flags))
    return found


def test_every_catalogue_is_complete():
    assert catalogues(), "no catalogues found"
    problems = []
    for po in catalogues():
        for msgid, msgstr, flags in entries(po):
            if not msgid:
                continue
            if not msgstr:
                problems.append(f"{po.relative_to(ROOT)}: untranslated {msgid!r}")
            if "fuzzy" in flags:
                problems.append(f"{po.relative_to(ROOT)}: fuzzy {msgid!r}")
    assert not problems, "\n".join(problems)


def test_a_message_reads_the_same_in_every_catalogue():
    """Django merges the catalogues into one: a msgid translated two ways shows only one of them, whichever app
    comes first. The same English (in the same context) has one Vietnamese wording everywhere."""
    wordings: dict[str, dict[str, str]] = {}
    for po in catalogues():
        for msgid, msgstr, _flags in entries(po):
            if msgid and msgstr:
                wordings.setdefault(msgid, {})[str(po.relative_to(ROOT))] = msgstr
    split = {m: w for m, w in wordings.items() if len(set(w.values())) > 1}
    assert not split, "translated differently (use one wording, or a context):\n" + "\n".join(
        f"{m!r}: {w}" for m, w in split.items()
    )


def test_every_catalogue_is_compiled():
    """Each .mo says what its .po says (compared by content: a fresh clone's file times mean nothing)."""
    import gettext

    stale = []
    for po in catalogues():
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} missing: run make messages"
        with mo.open("rb") as fp:
            compiled = gettext.GNUTranslations(fp)
        for msgid, msgstr, flags in entries(po):
            msgid, msgstr = unescape(msgid), unescape(msgstr)
            if msgid and msgstr and "fuzzy" not in flags and compiled.gettext(msgid) != msgstr:
                stale.append(f"{mo.relative_to(ROOT)}: {msgid!r}")
    assert not stale, "compiled catalogues out of date (run make messages):\n" + "\n".join(stale)


def test_no_string_is_missing_from_the_catalogues(tmp_path):
    """Extract messages from a copy of the code and compare with the committed catalogues."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".state", "node_modules", ".git", "staticfiles", "*.mo")
    )
    known: set[str] = set()
    for po in catalogues():
        known |= {msgid for msgid, _, _ in entries(po)}
    apps_with_own = {po.parts[-5] for po in catalogues() if "apps" in po.parts}
    ignore = [".venv/*", "devcloud/*", "tests/*", "bench/*", "staticfiles/*", "dashboard/static/vendor/*"]
    # As `make messages`: settings that load (generated keys in a prepared state folder), for their LOCALE_PATHS, the
    # site's catalogue (dashboard/locale), where the strings of apps without their own go.
    env = {
        "STRATUS_STATE_DIR": str(tmp_path / "state"),
        "STRATUS_DEV_KEYS": "true",
        "PATH": "/usr/bin:/bin",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    subprocess.run([sys.executable, "-m", "dashboard.devstate"], cwd=copy, check=True, capture_output=True, env=env)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", *[f"--ignore={i}" for i in ignore]],
        cwd=copy,
        check=True,
        capture_output=True,
        env=env,
    )
    for app in apps_with_own:
        subprocess.run(
            [sys.executable, "../../manage.py", "makemessages", "-l", "vi"],
            cwd=copy / "apps" / app,
            check=True,
            capture_output=True,
            env=env,
        )
    extracted: set[str] = set()
    for po in [
        copy / "dashboard/locale/vi/LC_MESSAGES/django.po",
        *(copy / "apps").glob("*/locale/vi/LC_MESSAGES/django.po"),
    ]:
        extracted |= {msgid for msgid, _, _ in entries(po)}
    missing = sorted(m for m in extracted - known if m)
    assert not missing, "strings missing from the catalogues (run make messages and translate):\n" + "\n".join(missing)
