"""S6: schemathesis over the whole OpenAPI, as every role: no answer is a 5xx.

Each operation of the schema gets a few generated requests (valid and invalid bodies,
parameters at their limits), each sent as every role's signed-in account, on one copy of the
seeded world. Only server errors fail: refusals (401, 403, 404, 409, 413, 422) are the point
of other tests. Logging out is left out: it would end the role's session for what follows.
(Driven directly rather than through schemathesis' pytest plugin, whose lazy schemas do not
work with this pytest.)
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from hub.api.app import create_app
from tests.integration.api.conftest import api_settings
from tests.integration.api.probing import ROLE_USERS
from tests.integration.api.world import World

EXAMPLES_PER_OPERATION = 4
LEFT_OUT = ("/api/v1/auth/logout",)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """Recorded events for rule replay: whatever was generated, one JSON value a line."""
    import json

    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item, ensure_ascii=False) for item in items).encode()


def test_no_operation_answers_any_role_with_a_server_error(
        template: tuple[Path, World], tmp_path: Path) -> None:
    folder, world = template
    shutil.copy(folder / "hub.db", tmp_path / "hub.db")
    app = create_app(api_settings(tmp_path))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    answers: Counter[int] = Counter()
    failures: list[str] = []
    operations = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in LEFT_OUT:
            continue
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            for username in ROLE_USERS.values():
                response = case.call(headers=world.auth(username))
                answers[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{username}: {case.method} {case.formatted_path} "
                                    f"-> {response.status_code}: {response.text[:200]}")

        exercise()

    print(f"\nS6: {operations} operations x {len(ROLE_USERS)} roles, "
          f"{sum(answers.values())} requests, answers {dict(sorted(answers.items()))}, "
          f"server errors {len(failures)}")
    assert operations > 50, "the schema lost its operations"
    assert not failures, "\n".join(failures[:20])


