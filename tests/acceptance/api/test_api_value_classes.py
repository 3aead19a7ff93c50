"""Every route, with each value class that once made a 500, gets an answer below 500.

A deterministic sweep beside the property run: each path parameter, query parameter and
top-level JSON field of every operation of the OpenAPI schema, and each path parameter of
the dashboard's pages, is given in turn a number past 64 bits, digits `int` does not read,
a NUL, invalid UTF-8, a lone surrogate, NaN and Infinity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, ApiClient, client, make_key, make_user
from tests.factories.web import sign_in_form

from textopt.accounts.models import Role, Scope
from textopt.web import (
    pages_campaigns,
    pages_contacts,
    pages_drafts,
    pages_home,
    pages_import,
    pages_settings,
)

#: Raw text put in a URL (already percent-encoded where needed).
URL_VALUES = ["99999999999999999999", "0%1F", "%C2%B2", "%00", "%ED%A0%80", "-1", "1e400"]
#: Raw JSON values.
JSON_VALUES = [
    b"99999999999999999999999",
    b"NaN",
    b"-Infinity",
    b'"\\ud800"',
    b'"a\\u0000b"',
    b'{"\\udfff": 1}',
    b'["x", NaN]',
]
_PARAM = re.compile(r"\{([^}]+)\}")


@pytest.fixture
def admin_session(app: FastAPI, engine: Engine) -> Iterator[tuple[ApiClient, str]]:
    """A dashboard session of an admin and its CSRF token."""
    make_user(engine, "root@shop.example", Role.ADMIN)
    with client(app) as web:
        assert sign_in_form(web, "root@shop.example", PASSWORD).status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/app/").text)
        assert token is not None
        yield web, token.group(1)


def _operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    schema = app.openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _fill(path: str, value: str = "1") -> str:
    return _PARAM.sub(value, path)


def test_every_api_field_refuses_each_value_class_without_a_server_error(
    app: FastAPI, engine: Engine
) -> None:
    failures: list[str] = []
    with client(app, make_key(engine, list(Scope), name="sweep")) as api:

        def call(method: str, url: str, **options: Any) -> None:
            answer = api.request(method, url, **options)
            if answer.status_code >= 500:
                failures.append(f"{method} {url} {options.get('content', b'')[:60]!r}")

        for method, path, operation in _operations(app):
            for value in URL_VALUES:
                if "{" in path:
                    call(method, _fill(path, value))
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query":
                        call(method, f"{_fill(path)}?{parameter['name']}={value}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            ref = body["schema"].get("$ref", "")
            model = app.openapi()["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
            for field in model.get("properties", {}):
                for raw in JSON_VALUES:
                    content = b'{"' + field.encode() + b'": ' + raw + b"}"
                    call(
                        method,
                        _fill(path),
                        content=content,
                        headers={"Content-Type": "application/json"},
                    )
    assert not failures, "\n".join(failures)


def test_every_dashboard_path_refuses_each_value_class_without_a_server_error(
    app: FastAPI, admin_session: tuple[ApiClient, str]
) -> None:
    web, csrf = admin_session
    failures: list[str] = []
    routers = (
        pages_home,
        pages_contacts,
        pages_import,
        pages_drafts,
        pages_campaigns,
        pages_settings,
    )
    pages = [
        r
        for module in routers
        for r in module.router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/app/") and "{" in r.path
    ]
    assert len(pages) >= 5
    for route in pages:
        for method in sorted(route.methods - {"HEAD"}):
            for value in URL_VALUES:
                url = _fill(route.path, value)
                data = {"csrf_token": csrf} if method == "POST" else None
                answer = web.request(method, url, data=data)
                if answer.status_code >= 500:
                    failures.append(f"{method} {url}: {answer.status_code}")
    assert not failures, "\n".join(failures)


#: Raw form values (already percent-encoded).
FORM_VALUES = ["%00", "a%00b", "%ED%A0%80", "99999999999999999999", "%C2%B2", "%FF"]
_FORM_PAGES = ["/app/segments", "/app/campaigns/new", "/app/settings/lists", "/app/import/x"]


def test_every_dashboard_form_field_refuses_each_value_class_without_a_server_error(
    app: FastAPI, admin_session: tuple[ApiClient, str]
) -> None:
    web, csrf = admin_session
    routes = {
        r.path: r
        for module in (pages_contacts, pages_import, pages_drafts, pages_campaigns, pages_settings)
        for r in module.router.routes
        if isinstance(r, APIRoute) and "POST" in r.methods
    }
    failures: list[str] = []
    for page in _FORM_PAGES:
        route = routes[page.replace("/x", "/{token}")]
        names = [p.alias for p in route.dependant.body_params if p.alias != "csrf_token"]
        assert names, page
        for name in names:
            for value in FORM_VALUES:
                fields = dict.fromkeys(names, "ok") | {name: value}
                body = "&".join(f"{k}={v}" for k, v in fields.items()) + f"&csrf_token={csrf}"
                answer = web.post(
                    page,
                    content=body.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                if answer.status_code >= 500:
                    failures.append(f"POST {page} {name}={value}: {answer.status_code}")
    assert not failures, "\n".join(failures)
