"""Known vulnerabilities of the locked requirements, from PyPI's project JSON, for machines where pip-audit cannot ask.

pip-audit asks PyPI's per-release JSON API (`/pypi/<name>/<version>/json`) or OSV (api.osv.dev). Where neither
answers (.ci/run probes first), this asks what does answer on PyPI's host: the project JSON (`/pypi/<name>/json`),
whose `vulnerabilities` are those of the project's latest release. So:

- a pin that is the latest release is audited exactly: any vulnerability PyPI lists for it fails the run;
- a pin behind the latest release cannot be audited from here: it is listed, with the latest version, so a person
  decides (e.g. Django stays on the 5.2 LTS line). It does not fail the run, and the output says it was not audited.

Usage: python .ci/audit_lock.py requirements.txt [requirements-dev.txt ...]   (standard library only)
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def pins(paths: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                m = PIN.match(line)
                if m:
                    found[m.group(1).lower()] = m.group(3)
    return found


def project(name: str) -> dict:
    with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=30) as response:
        return json.load(response)


def main(paths: list[str]) -> int:
    locked = pins(paths)
    with ThreadPoolExecutor(4) as pool:
        answers = dict(zip(locked, pool.map(project, locked), strict=True))
    vulnerable, behind = [], []
    for name, version in sorted(locked.items()):
        latest = answers[name]["info"]["version"]
        if version != latest:
            behind.append(f"  {name}=={version} (latest {latest})")
            continue
        for vuln in answers[name].get("vulnerabilities") or []:
            if not vuln.get("withdrawn"):
                fixed = ", ".join(vuln.get("fixed_in") or []) or "no fix yet"
                vulnerable.append(f"  {name}=={version}: {vuln['id']} {vuln.get('aliases') or ''} fixed in {fixed}")
    audited = len(locked) - len(behind)
    print(f"{len(locked)} locked packages; {audited} are their project's latest release and were audited against")
    print("PyPI's vulnerability data.")
    if behind:
        print(f"Not audited here ({len(behind)}: behind their latest release, whose data is all PyPI's JSON gives):")
        print("\n".join(behind))
    if vulnerable:
        print("Known vulnerabilities:")
        print("\n".join(vulnerable))
        return 1
    print(f"No known vulnerabilities in the {audited} audited packages.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.txt", "requirements-dev.txt"]))
