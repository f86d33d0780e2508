"""`make bench`: run every benchmark script in turn and print their tables. Numbers only; nothing fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["pages", "instances", "operations", "console", "devcloud_list"]


def main() -> None:
    for name in SCRIPTS:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"## {name}: not present")
            continue
        print(f"\n## {name}\n", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT)
        if result.returncode:
            print(f"(bench.{name} exited with {result.returncode})")


if __name__ == "__main__":
    main()
