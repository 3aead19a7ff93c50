"""Input no route was written for gets a 4xx naming the field, never a 500.

The value classes of the property run (`test_api_schemathesis.py`), each pinned by an
example: ids that pass `isdecimal` but not `int`, numbers past 32 bits, lone surrogates,
NUL characters, NaN and Infinity, and bodies larger than their route takes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, ApiClient, client, make_user
from tests.factories.web import sign_in_form

from textopt.accounts.models import Role

HUGE = "99999999999999999999"


@pytest.fixture
def marketer(app: FastAPI, engine: Engine) -> Iterator[ApiClient]:
    """A dashboard session of a marketer (cookie), with its CSRF token in `csrf`."""
    make_user(engine, "marketer@shop.example", Role.MARKETER)
    with client(app) as web:
        answer = sign_in_form(web, "marketer@shop.example", PASSWORD)
        assert answer.status_code == 303, answer.text
        yield web


@pytest.mark.parametrize("key", ["0\x1f", "7\x1c", "²", "٣", "0", HUGE, " 12 "])
def test_a_segment_key_that_is_no_id_is_not_found(admin: ApiClient, key: str) -> None:
    path = "/v1/segments/" + quote(key, safe="")
    answer = admin.get(path)
    assert answer.status_code == 404, answer.text
    assert admin.get(path + "/count").status_code == 404
    assert admin.delete(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/app/contacts?after={HUGE}", "after"),
        ("GET", f"/app/contacts/{HUGE}", "contact_id"),
        ("GET", f"/app/contacts/{HUGE}/proof", "contact_id"),
        ("GET", f"/app/campaigns/{HUGE}", "campaign_id"),
        ("POST", f"/app/campaigns/{HUGE}/launch", "campaign_id"),
    ],
)
def test_a_dashboard_id_past_32_bits_is_refused(
    marketer: ApiClient, method: str, path: str, field: str
) -> None:
    answer = marketer.request(method, path)
    assert answer.status_code == 422, answer.text
    assert "text/html" in answer.headers["content-type"]
    assert field in answer.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"phone": "0612345678", "first_name": "\\ud800"}', "first_name"),
        (b'{"phone": "0612345678", "tags": ["vip", "\\udfff"]}', "tags.1"),
        (b'{"phone": "0612345678", "attributes": {"\\ud800": "x"}}', "attributes."),
        (b'{"phone": "0612345678", "attributes": {"score": NaN}}', "attributes.score"),
        (b'{"phone": "0612345678", "attributes": {"score": Infinity}}', "attributes.score"),
        (b'{"phone": "0612345678", "attributes": {"score": [1, -Infinity]}}', "attributes.score.1"),
        (b'{"phone": "0612345678", "last_name": "a\\u0000b"}', "last_name"),
    ],
)
def test_json_that_is_not_json_is_refused_naming_the_field(
    admin: ApiClient, body: bytes, field: str
) -> None:
    answer = admin.post("/v1/contacts", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["field"].startswith(field)
    assert admin.get("/v1/contacts").json()["items"] == []
    assert admin.get("/v1/contacts/export").status_code == 200


def test_a_body_past_its_limit_is_refused_as_it_streams(admin: ApiClient) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 50 * 2**20:
            sent += 2**16
            yield b" " * 2**16

    answer = admin.post(
        "/v1/contacts", content=endless(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "body_too_large"
    assert sent <= 2 * 2**20  # read up to the 1 MB limit, not the 50 MB offered


def test_a_declared_length_past_the_limit_is_refused_before_reading(admin: ApiClient) -> None:
    answer = admin.post(
        "/u/abc",
        content=b"x" * 20_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "body_too_large"


def test_an_anonymous_upload_is_refused_before_its_body_is_read(anonymous: ApiClient) -> None:
    sent = 0

    async def upload() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        while sent < 20 * 2**20:
            sent += 2**16
            yield b"0612345678\n" * 5000
        yield b"\r\n--b--\r\n"

    answer = anonymous.post(
        "/v1/contacts/import",
        content=upload(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 401
    assert sent <= 2**16


def test_an_upload_past_the_setting_is_refused_as_it_streams(admin: ApiClient) -> None:
    sent = 0

    async def upload() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        while sent < 200 * 2**20:
            sent += 55_000
            yield b"0612345678\n" * 5000
        yield b"\r\n--b--\r\n"

    answer = admin.post(
        "/v1/contacts/import",
        content=upload(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 413, answer.text
    assert sent < 60 * 2**20  # the 50 MB setting and its envelope, not the 200 MB offered


def test_a_viewer_cannot_run_a_draft_template(app: FastAPI, engine: Engine) -> None:
    make_user(engine, "viewer@shop.example", Role.VIEWER)
    with client(app) as web:
        answer = sign_in_form(web, "viewer@shop.example", PASSWORD)
        assert answer.status_code == 303
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/app/").text)
        assert token is not None
        refused = web.post(
            "/app/api/analyze",
            json={"text": "{% for i in range(99999) %}{{ i }}{% endfor %}"},
            headers={"X-CSRF-Token": token.group(1)},
        )
        assert refused.status_code == 403


def test_a_dashboard_upload_is_read_only_once_the_session_is_known(
    anonymous: ApiClient, marketer: ApiClient
) -> None:
    sent = 0

    async def upload() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        while sent < 20 * 2**20:
            sent += 2**16
            yield b"0612345678\n" * 5000
        yield b"\r\n--b--\r\n"

    answer = anonymous.post(
        "/app/import", content=upload(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert answer.status_code == 303  # to the sign-in page
    assert sent <= 2**16
    page = marketer.get("/app/import").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    csv = b"phone;first_name\n0612345678;Alice\n"
    kept = marketer.post(
        "/app/import",
        data={"csrf_token": token.group(1), "region": "FR"},
        files={"file": ("clients.csv", csv, "text/csv")},
    )
    assert kept.status_code == 200, kept.text
    assert "Alice" in kept.text
    forged = marketer.post(
        "/app/import", data={"csrf_token": "x"}, files={"file": ("c.csv", csv, "text/csv")}
    )
    assert forged.status_code == 403
