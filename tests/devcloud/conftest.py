"""Every answer devcloud gives during a test of this package is checked against the response schemas OpenStack
publishes: Nova's own, per route, method and microversion (tests/devcloud/nova_schemas.py), and Nova's fault
shape for its errors. devcloud keeps its answers while recording is on (`/devcloud/answers`); after each test
the new ones are checked, and a test whose answers break a schema fails (at teardown, listing each).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.devcloud import nova_schemas

if TYPE_CHECKING:
    from tests.cloudharness import TestCloud

API = "/compute/v2.1"
VERSION_ROUTES = ("/compute", "/compute/v2", "/compute/v2.1")

# Nova's fault body (nova/api/openstack/wsgi.py Fault): one key naming the kind, with the code and the message.
NOVA_FAULT = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "propertyNames": {"pattern": "^[a-zA-Z]+$"},
    "additionalProperties": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        "required": ["code", "message"],
        "additionalProperties": False,
    },
}


def check_answer(answer: dict[str, Any]) -> list[str]:
    """What is wrong with one recorded devcloud answer, by the schema Nova publishes for it (empty: nothing)."""
    route, status, method = answer["route"] or "", answer["status"], answer["method"]
    if method == "HEAD" or not (route in VERSION_ROUTES or route.startswith(API + "/")):
        return []  # other services' answers: checked by their own tests
    where = f"{method} {answer['path']}" + (f"?{answer['query']}" if answer["query"] else "")
    version = answer["compute_version"]
    try:
        body = json.loads(answer["body"]) if answer["body"] else None
    except ValueError:
        return [f"{where} → {status}: not JSON: {answer['body'][:200]!r}"]
    if status >= 400:
        if status == 401:  # keystonemiddleware's body, in front of Nova
            return []
        schema: Any = NOVA_FAULT
    elif route in VERSION_ROUTES:
        schema = nova_schemas.version_schema(route[len("/compute") :])
    else:
        nova_path = route[len(API) :]
        action = answer["action"] if nova_path.endswith("/action") else None
        schema = nova_schemas.schema_for(method, nova_path, version, action)
        if schema is False:
            missing = f"action {action}" if action else "route"
            return [f"{where} (2.{version}) → {status}: Nova has no such {missing}"]
        if schema is None:
            return [f"{where} (2.{version}) → {status}: Nova serves no answer at this microversion"]
    return [f"{where} (2.{version}) → {status}: {e}" for e in nova_schemas.errors(schema, body)]


@pytest.fixture(autouse=True)
def answers_match_published_schemas(cloud: TestCloud) -> Iterator[None]:
    if not cloud.is_devcloud:
        yield
        return
    start = cloud.control("answers", {"record": True})["last"]
    yield
    answers = cloud.control(f"answers?after={start}", method="GET")["answers"]
    problems = [p for a in answers for p in check_answer(a)]
    if problems:
        shown = "\n".join(sorted(set(problems))[:60])
        pytest.fail(f"{len(problems)} devcloud answer(s) break Nova's published response schemas:\n{shown}")
