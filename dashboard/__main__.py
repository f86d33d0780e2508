"""`stratus` (or `python -m dashboard`): the one command of an installed Stratus.

    stratus run [NAME ...]     every process from the Procfile until Ctrl-C (dashboard/run.py; `make run`)
    stratus manage ARGS ...    Django's management commands (migrate, createsuperuser, consoleproxy, ...)
    stratus version            the version installed

It works the same from a checkout (`.venv/bin/python -m dashboard ...`) and from `pip install` of the package, where
there is no manage.py: the settings, templates, static files and compiled catalogues ship inside the package.
"""

from __future__ import annotations

import os
import sys

from dashboard.version import __version__

USAGE = "usage: stratus {run [NAME ...] | manage COMMAND [ARGS ...] | version}"


def manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["stratus manage", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args else ""
    if command == "run":
        from dashboard import run

        return run.main(args)
    if command == "manage":
        return manage(args)
    if command in ("version", "--version"):
        print(f"stratus {__version__}")
        return 0
    print(USAGE, file=sys.stderr)
    return 0 if command in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
