"""The deployment files stay consistent with the code: every environment variable settings.py reads is in
docs/configuration.md, and the Containerfile, compose.yaml and systemd units run the Procfile's processes."""

from __future__ import annotations

import re
import shlex

import yaml

from tests.cloudharness import ROOT

ENV_READ = re.compile(r"\benv(?:_bool|_int|_float|_list)?\(\s*\"([A-Z][A-Z0-9_]+)\"")


def settings_variables() -> set[str]:
    names = set(ENV_READ.findall((ROOT / "dashboard" / "settings.py").read_text()))
    conf = (ROOT / "apps" / "operations" / "conf.py").read_text()
    names |= set(ENV_READ.findall(conf)) | set(re.findall(r'_get\(\s*"([A-Z][A-Z0-9_]+)"', conf))
    names.add("STRATUS_STATE_DIR")  # the settings' state folder, chosen by dashboard/devstate.py for every process
    return names


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "dashboard" / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


def program(argv: list[str]) -> tuple[str, ...]:
    """The part of a command line that says which process it is: gunicorn dashboard.wsgi / celery worker / ..."""
    words = [w.rsplit("/", 1)[-1] for w in argv]
    if words[0].startswith("python"):
        words = words[1:]
    if words[:2] == ["-m", "dashboard"]:  # `python -m dashboard manage X` is the `stratus` command of a checkout
        words = ["stratus", *words[2:]]
    if words[0] == "manage.py":  # Django's own, as `stratus manage`
        words = ["stratus", "manage", *words[1:]]
    if words[:2] == ["stratus", "manage"]:
        return ("stratus manage", words[2])
    if words[0] == "gunicorn":
        return (
            "gunicorn",
            next(w for i, w in enumerate(words[1:], 1) if not w.startswith("-") and words[i - 1] != "-c"),
        )
    if words[0] == "celery":
        return ("celery", words[words.index("-A") + 2])
    return tuple(words[:2])


def test_every_environment_variable_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    names = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "STRATUS_TLS"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_deployment_doc_names_every_variable():
    doc = (ROOT / "docs" / "deployment.md").read_text()
    names = settings_variables()
    assert {"STRATUS_OPERATION_STALE_SECONDS", "STRATUS_FERNET_KEY", "STRATUS_CONSOLE_URL"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing, f"not in docs/deployment.md: {missing}"


def test_compose_and_systemd_run_the_procfile_processes():
    production = {name: program(argv) for name, argv in procfile().items() if name in ("web", "worker", "console")}
    assert set(production) == {"web", "worker", "console"}, "the Procfile lost a production process"

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    containerfile = (ROOT / "Containerfile").read_text()
    default_cmd = re.search(r"^CMD (\[.*\])$", containerfile, re.M)
    assert default_cmd
    compose_programs = {
        name: program(service.get("command") or yaml.safe_load(default_cmd.group(1)))
        for name, service in compose.items()
        if name in production
    }
    assert compose_programs == production

    units = {}
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        start = re.search(r"^ExecStart=(.*)$", unit.read_text(), re.M)
        assert start, unit
        units[unit.name] = program(shlex.split(start.group(1)))
    for name, prog in production.items():
        assert prog in units.values(), f"no systemd unit runs the Procfile's {name} ({prog})"


def test_compose_and_env_example_set_what_production_needs():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    env = compose["x-stratus"]["environment"]
    for name in ("SECRET_KEY", "STRATUS_FERNET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "OS_AUTH_URL"):
        assert name in env
    example = (ROOT / "deploy" / "stratus.env.example").read_text()
    for name in ("DEBUG=false", "STRATUS_TLS=true", "DATABASE_URL=postgres", "REDIS_URL=redis", "ALLOWED_HOSTS="):
        assert name in example
    documented = settings_variables() | {"OS_CLIENT_CONFIG_FILE"}
    for line in example.splitlines():
        if "=" in line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            assert name in documented or name.removesuffix("_FILE") in documented, (
                f"deploy/stratus.env.example sets {name}, which nothing reads"
            )
