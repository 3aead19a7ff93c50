"""Authentication and authorisation: keys, sessions with CSRF, roles, the audit log, limits."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update
from tests.factories.api import PASSWORD, ApiClient, client, make_app, make_key, make_user
from tests.factories.web import sign_in_form

from textopt.accounts.limits import RequestLimiter
from textopt.accounts.models import ApiKey, Role, Scope
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.errors import PermissionDenied

PROBLEM = "application/problem+json"
PUBLIC = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/v1/auth/login"}
# Provider callbacks and unsubscribe links carry their own signatures instead of a login
# (tests/acceptance/api/test_api_hooks.py proves they refuse unsigned requests).
SIGNED = ("/hooks/", "/u/")


def _concrete(path: str) -> str:
    return (
        path.replace("{name_or_id}", "1")
        .replace("{token}", "x" * 20)
        .replace("{tag}", "vip")
        .replace("_id}", "}")
        .replace("{contact}", "1")
        .replace("{campaign}", "1")
        .replace("{message}", "1")
        .replace("{user}", "1")
        .replace("{key}", "1")
        .replace("{endpoint}", "1")
    )


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in PUBLIC and not path.startswith(SIGNED)
        for method in operations
    ]


def test_every_v1_route_refuses_a_request_without_credentials(
    app: FastAPI, anonymous: ApiClient
) -> None:
    routes = _routes(app)
    assert len(routes) > 30
    for method, path in routes:
        if path == "/v1/auth/logout":
            continue  # signing out without a session is harmless
        response = anonymous.request(method, _concrete(path))
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_a_malformed_and_a_revoked_key_are_refused(
    app: FastAPI, admin: ApiClient, engine: Engine
) -> None:
    for header in ("Bearer txo_nope_nope", "Bearer nonsense", "Basic abc", "Bearer "):
        with ApiClient(app, {"Authorization": header}) as c:
            assert c.get("/v1/contacts").status_code == 401
    secret = make_key(engine, [Scope.READ], name="soon revoked")
    with client(app, secret) as c:
        assert c.get("/v1/contacts").status_code == 200
        key_id = next(
            k["id"] for k in admin.get("/v1/api-keys").json() if k["name"] == "soon revoked"
        )
        assert admin.delete(f"/v1/api-keys/{key_id}").json()["revoked_at"] is not None
        assert c.get("/v1/contacts").status_code == 401


def test_a_keys_last_use_is_recorded_once_a_minute_on_every_route(
    app: FastAPI, engine: Engine
) -> None:
    secret = make_key(engine, list(Scope), name="shop")

    def last_used() -> dt.datetime | None:
        with session_scope(engine) as s:
            return s.scalars(select(ApiKey.last_used_at).where(ApiKey.name == "shop")).one()

    assert last_used() is None
    with client(app, secret) as shop:
        # a route with its own transaction (the key checked beside it), then an ordinary one
        sent = shop.post(
            "/v1/messages",
            json={"to": "06 12 34 56 78", "text": "Commande prête"},
            headers={"Idempotency-Key": "k1"},
        )
        assert sent.status_code == 201
        first = last_used()
        assert first is not None
        assert shop.get("/v1/contacts").status_code == 200
        assert last_used() == first  # within the minute: not written again
        with session_scope(engine) as s:
            s.execute(update(ApiKey).values(last_used_at=first - dt.timedelta(minutes=5)))
        assert shop.get("/v1/contacts").status_code == 200
        assert last_used() > first - dt.timedelta(seconds=1)  # type: ignore[operator]
        with session_scope(engine) as s:
            s.execute(update(ApiKey).values(last_used_at=first - dt.timedelta(minutes=5)))
        again = shop.post(
            "/v1/messages",
            json={"to": "06 12 34 56 78", "text": "Commande prête"},
            headers={"Idempotency-Key": "k2"},
        )
        assert again.status_code == 201
        assert last_used() > first - dt.timedelta(seconds=1)  # type: ignore[operator]


def test_a_read_only_key_cannot_change_anything(viewer: ApiClient) -> None:
    assert viewer.get("/v1/contacts").status_code == 200
    refused = [
        viewer.post("/v1/contacts", json={"phone": "0612345678"}),
        viewer.post("/v1/segments", json={"name": "all", "filter": "all"}),
        viewer.post("/v1/campaigns/1/launch"),
        viewer.post("/v1/gdpr/export", json={"phone": "0612345678"}),
        viewer.post(
            "/v1/messages", json={"to": "0612345678", "text": "x"}, headers={"Idempotency-Key": "k"}
        ),
        viewer.get("/v1/users"),
        viewer.get("/v1/audit"),
        viewer.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1/x", "events": ["campaign.completed"]}
        ),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"


def test_a_marketer_session_launches_but_cannot_erase_and_needs_the_csrf_token(
    app: FastAPI, engine: Engine
) -> None:
    make_user(engine, "mia@example.com", Role.MARKETER)
    with client(app) as browser:
        wrong = browser.post(
            "/v1/auth/login", json={"email": "mia@example.com", "password": "nope"}
        )
        assert wrong.status_code == 401
        login = browser.post(
            "/v1/auth/login", json={"email": "MIA@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "secure" in cookie
        assert "samesite=lax" in cookie
        csrf = login.json()["csrf_token"]
        assert sorted(login.json()["scopes"]) == [
            "events",
            "inbox",
            "launch",
            "read",
            "send",
            "write",
        ]
        assert browser.get("/v1/contacts").status_code == 200  # reads need no token
        without = browser.post("/v1/contacts", json={"phone": "0612345678"})
        assert without.status_code == 403
        assert "CSRF" in without.json()["detail"]
        with_token = browser.post(
            "/v1/contacts", json={"phone": "0612345678"}, headers={"X-CSRF-Token": csrf}
        )
        assert with_token.status_code == 201
        erase = browser.post(
            "/v1/gdpr/erase", json={"phone": "0612345678"}, headers={"X-CSRF-Token": csrf}
        )
        assert erase.status_code == 403
        assert browser.get("/v1/auth/me").json()["csrf_token"] == csrf
        assert browser.post("/v1/auth/logout").status_code == 204
        assert browser.get("/v1/contacts").status_code == 401


def test_users_and_keys_are_managed_by_an_admin_and_audited(admin: ApiClient, app: FastAPI) -> None:
    created = admin.post(
        "/v1/users", json={"email": "vic@example.com", "password": PASSWORD, "role": "viewer"}
    )
    assert created.status_code == 201
    assert "password" not in created.text
    duplicate = admin.post(
        "/v1/users", json={"email": "vic@example.com", "password": PASSWORD, "role": "viewer"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "email"
    short = admin.post(
        "/v1/users", json={"email": "x@example.com", "password": "short", "role": "viewer"}
    )
    assert short.status_code == 422
    assert short.json()["field"] == "password"
    bad_role = admin.post(
        "/v1/users", json={"email": "y@example.com", "password": PASSWORD, "role": "boss"}
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["field"] == "role"
    assert [u["email"] for u in admin.get("/v1/users").json()] == ["vic@example.com"]
    user_id = created.json()["id"]
    assert admin.post(f"/v1/users/{user_id}/disable").json()["disabled_at"] is not None
    assert admin.post("/v1/users/999/disable").status_code == 404
    with client(app) as browser:
        refused = browser.post(
            "/v1/auth/login", json={"email": "vic@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 401
    key = admin.post("/v1/api-keys", json={"name": "shop", "scopes": ["read", "send"]})
    assert key.status_code == 201
    assert key.json()["secret"].startswith("txo_")
    listed = admin.get("/v1/api-keys").json()
    assert all("secret" not in k for k in listed)
    assert admin.post("/v1/api-keys", json={"name": "x", "scopes": ["root"]}).status_code == 422
    assert admin.delete("/v1/api-keys/999").status_code == 404
    actions = [e["action"] for e in admin.get("/v1/audit").json()["items"]]
    assert actions == ["user.created", "user.disabled", "api_key.created"]


def test_a_key_cannot_be_granted_scopes_its_creator_lacks(app: FastAPI, engine: Engine) -> None:
    make_user(engine, "ada@example.com", Role.ADMIN)
    with client(app) as browser:
        csrf = browser.post(
            "/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        ).json()["csrf_token"]
        made = browser.post(
            "/v1/api-keys", json={"name": "ci", "scopes": ["read"]}, headers={"X-CSRF-Token": csrf}
        )
        assert made.status_code == 201
        assert made.json()["created_by"] is not None


def test_login_is_rate_limited_per_client_with_retry_after(
    engine: Engine, campaign_settings: Settings
) -> None:
    app = make_app(
        engine,
        campaign_settings.model_copy(update={"login_rate_per_minute": 2}),
        limiter=RequestLimiter(),
    )
    with client(app) as c:
        codes = [
            c.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"}).status_code
            for _ in range(3)
        ]
        assert codes == [401, 401, 429]
        last = c.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"})
        assert last.headers["retry-after"].isdigit()
        assert int(last.headers["retry-after"]) >= 1
        assert last.json()["code"] == "rate_limited"


def test_health_is_public_and_rate_limited(engine: Engine, campaign_settings: Settings) -> None:
    app = make_app(engine, campaign_settings.model_copy(update={"public_rate_per_minute": 1}))
    with client(app) as c:
        assert c.get("/health").json() == {"status": "ok", "database": "ok"}
        assert c.get("/health").status_code == 429


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_api_documentation_is_served(anonymous: ApiClient, path: str) -> None:
    assert anonymous.get(path).status_code == 200


def test_an_unknown_route_is_a_problem_document(admin: ApiClient) -> None:
    response = admin.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def _key_made_by(parent: ApiClient, scopes: list[str], name: str = "child") -> str:
    made = parent.post("/v1/api-keys", json={"name": name, "scopes": scopes})
    assert made.status_code == 201, made.text
    secret: str = made.json()["secret"]
    return secret


def test_a_key_made_by_a_key_acts_for_its_user_and_dies_when_they_are_disabled(
    app: FastAPI, engine: Engine, admin: ApiClient
) -> None:
    ada = make_user(engine, "ada@example.com", Role.ADMIN)
    with client(app, make_key(engine, list(Scope), name="ada's", user=ada)) as adas:
        child = _key_made_by(adas, ["read", "admin"])
        with client(app, child) as grandchild_maker:
            grandchild = _key_made_by(grandchild_maker, ["read"], name="grandchild")
    keys = {k["name"]: k for k in admin.get("/v1/api-keys").json()}
    assert keys["child"]["created_by"] == ada
    assert keys["grandchild"]["created_by"] == ada
    assert admin.post(f"/v1/users/{ada}/disable").status_code == 200
    for secret in (child, grandchild):
        with client(app, secret) as revoked:
            answer = revoked.get("/v1/contacts")
            assert answer.status_code == 401
            refused = revoked.post(
                "/v1/users",
                json={"email": "eve@example.com", "password": PASSWORD, "role": "admin"},
            )
            assert refused.status_code == 401
    keys = {k["name"]: k for k in admin.get("/v1/api-keys").json()}
    assert keys["child"]["revoked_at"] is not None
    assert keys["grandchild"]["revoked_at"] is not None


def test_revoking_a_key_revokes_the_keys_made_through_it(app: FastAPI, admin: ApiClient) -> None:
    parent = _key_made_by(admin, ["read", "admin"], name="parent")
    with client(app, parent) as parents:
        child = _key_made_by(parents, ["read"])
    parent_id = next(k["id"] for k in admin.get("/v1/api-keys").json() if k["name"] == "parent")
    assert admin.delete(f"/v1/api-keys/{parent_id}").status_code == 200
    with client(app, child) as children:
        assert children.get("/v1/contacts").status_code == 401


def test_an_admin_only_key_cannot_make_a_user_or_key_more_powerful_than_itself(
    app: FastAPI, engine: Engine
) -> None:
    def new_user(maker: ApiClient, role: str, email: str) -> int:
        body = {"email": email, "password": PASSWORD, "role": role}
        return maker.post("/v1/users", json=body).status_code

    with client(app, make_key(engine, [Scope.ADMIN], name="admin only")) as admin_only:
        refused = admin_only.post(
            "/v1/users", json={"email": "eve@example.com", "password": PASSWORD, "role": "admin"}
        )
        assert refused.status_code == 403
        assert refused.json()["field"] == "role"
        assert new_user(admin_only, "viewer", "vic@example.com") == 403  # viewers read
        wider = admin_only.post("/v1/api-keys", json={"name": "x", "scopes": ["admin", "send"]})
        assert wider.status_code == 403
        assert wider.json()["field"] == "scopes"
    with client(app, make_key(engine, [Scope.ADMIN, Scope.READ], name="admin+read")) as reader:
        assert new_user(reader, "viewer", "vic@example.com") == 201
        assert new_user(reader, "marketer", "max@example.com") == 403
    with client(app, make_key(engine, list(Scope), name="all")) as full:
        assert new_user(full, "admin", "root@example.com") == 201


def test_a_key_never_holds_more_than_its_users_role(app: FastAPI, engine: Engine) -> None:
    max_id = make_user(engine, "max@example.com", Role.MARKETER)
    with pytest.raises(PermissionDenied):
        make_key(engine, [Scope.ADMIN], user=max_id)  # the operator cannot either
    with client(app, make_key(engine, [Scope.READ, Scope.SEND], user=max_id)) as maxs:
        assert maxs.get("/v1/auth/me").json()["scopes"] == ["read", "send"]


def test_failed_sign_ins_are_limited_per_account_across_addresses_and_processes(
    engine: Engine, campaign_settings: Settings
) -> None:
    # Two apps stand for two web processes, each with its own per-IP limiter; the
    # attacker's tries come from anywhere. The account's budget is in the database.
    settings = campaign_settings.model_copy(update={"login_failures_per_account": 3})
    make_user(engine, "zoe@example.com", Role.MARKETER)
    first, second = make_app(engine, settings), make_app(engine, settings)
    wrong = {"email": "zoe@example.com", "password": "guess"}
    with client(first) as a, client(second) as b:
        codes = [c.post("/v1/auth/login", json=wrong).status_code for c in (a, b, a)]
        assert codes == [401, 401, 401]
        refused = b.post("/v1/auth/login", json={**wrong, "email": " ZOE@example.com"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        # even the right password waits: the budget is the account's, not the guesser's
        right = a.post("/v1/auth/login", json={"email": "zoe@example.com", "password": PASSWORD})
        assert right.status_code == 429
        other = make_user(engine, "max@example.com", Role.VIEWER)
        assert other
        ok = b.post("/v1/auth/login", json={"email": "max@example.com", "password": PASSWORD})
        assert ok.status_code == 200


def test_the_sign_in_form_needs_its_signed_token(app: FastAPI, engine: Engine) -> None:
    make_user(engine, "lea@example.com", Role.VIEWER)
    form = {"email": "lea@example.com", "password": PASSWORD, "next": "/app/"}
    with client(app) as c:
        forged = c.post("/app/login", data={**form, "form_token": "1.2.3"})
        assert forged.status_code == 403
        assert "textopt_session" not in c.http.cookies
        assert c.post("/app/login", data=form).status_code == 403
        assert sign_in_form(c, "lea@example.com", PASSWORD).status_code == 303
