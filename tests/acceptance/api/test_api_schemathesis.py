"""Schemathesis against our own OpenAPI: generated requests never get a 5xx.

Runs in-process through the ASGI app with an all-scopes key, so every operation is reached
past authentication, on both databases; a bounded number of examples per operation keeps it
under a minute. The run is derandomized (the same examples on every run: CI cannot fail one
time in three); the value classes a random run once found (ids past 32 bits or that pass
`isdecimal` but not `int`, lone surrogates, NUL characters, NaN, bodies past their limit)
are pinned by examples in `test_api_hostile_input.py`, and swept over every operation, every
dashboard path and every dashboard form field in `test_api_value_classes.py`.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine
from tests.factories.api import make_key

from textopt.accounts.models import Scope

_EXAMPLES = 12


def test_generated_requests_never_get_a_server_error(app: FastAPI, engine: Engine) -> None:
    headers = {"Authorization": f"Bearer {make_key(engine, list(Scope), name='fuzz')}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # every route is in the schema

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

        run()
    assert not failures, "\n".join(failures)
    assert len(calls) > 3 * len(operations)
    assert any(200 <= code < 300 for code in calls)  # the key works: requests get through
