"""Drafts over HTTP: template errors at create, edit, duplicate, delete, and a launch that
would send nothing refused."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from tests.factories.api import ApiClient
from tests.factories.campaigns import add_contact

from textopt.db.engine import session_scope
from textopt.outbox.models import Message


def _audience(engine: Engine) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33612345678", first_name="Alice")
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)


def _draft(admin: ApiClient, **fields: object) -> int:
    body = {"name": "Soldes", "text": "Soldes -20% chez Boutique", "audience": "tag:vip"}
    created = admin.post("/v1/campaigns", json={**body, **fields})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_template_error_is_refused_at_create_with_its_line_or_name(
    admin: ApiClient, engine: Engine
) -> None:
    _audience(engine)
    for text, field, words in (
        ("Bonjour {{ prenom }}", "prenom", "'prenom' is missing"),
        ("Bonjour\n{{ first_name | nope }}", "template", "line 2: No filter named 'nope'"),
        ("Bonjour {{ first_name }", "template", "line 1"),
    ):
        answer = admin.post(
            "/v1/campaigns", json={"name": "Soldes", "text": text, "audience": "tag:vip"}
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "template_error"
        assert answer.json()["field"] == field
        assert words in answer.json()["detail"]
    assert admin.get("/v1/campaigns").json()["items"] == []


def test_a_draft_is_edited_duplicated_and_deleted_and_each_step_is_audited(
    admin: ApiClient, engine: Engine
) -> None:
    _audience(engine)
    cid = _draft(admin)
    edited = admin.patch(
        f"/v1/campaigns/{cid}", json={"name": "Soldes d'hiver", "text": "-30% {{ first_name }}"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "Soldes d'hiver"
    assert edited.json()["template"] == "-30% {{ first_name }}"
    assert edited.json()["audience_filter"] == "tag:vip"  # what was not sent stays
    refused = admin.patch(f"/v1/campaigns/{cid}", json={"text": "{{ prenom }}"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "prenom"
    assert admin.get(f"/v1/campaigns/{cid}").json()["template"] == "-30% {{ first_name }}"
    assert admin.patch(f"/v1/campaigns/{cid}", json={"colour": "red"}).status_code == 422

    copy = admin.post(f"/v1/campaigns/{cid}/duplicate")
    assert copy.status_code == 201, copy.text
    assert copy.json()["status"] == "draft"
    assert copy.json()["name"] == "Soldes d'hiver (copy)"
    assert copy.json()["template"] == "-30% {{ first_name }}"
    copy_id = copy.json()["id"]
    assert admin.delete(f"/v1/campaigns/{copy_id}").status_code == 204
    assert admin.get(f"/v1/campaigns/{copy_id}").status_code == 404

    assert admin.post(f"/v1/campaigns/{cid}/launch").status_code == 200
    late = admin.patch(f"/v1/campaigns/{cid}", json={"name": "x"})
    assert late.status_code == 409
    assert "only a draft" in late.json()["detail"]
    assert admin.delete(f"/v1/campaigns/{cid}").status_code == 409
    again = admin.post(f"/v1/campaigns/{cid}/duplicate", json={"name": "Encore"})
    assert again.status_code == 201
    assert again.json()["name"] == "Encore"
    assert again.json()["status"] == "draft"

    audit = admin.get("/v1/audit", params={"target_type": "campaign"}).json()["items"]
    assert [(e["action"], int(e["target_id"])) for e in audit] == [
        ("campaign.created", cid),
        ("campaign.edited", cid),
        ("campaign.duplicated", copy_id),
        ("campaign.deleted", copy_id),
        ("campaign.launched", cid),
        ("campaign.duplicated", again.json()["id"]),
    ]


def test_a_launch_that_would_send_nothing_is_refused_with_the_reason(
    admin: ApiClient, engine: Engine
) -> None:
    with session_scope(engine) as s:
        add_contact(s, "+33698765432", first_name="Bob", consent_at=None)
    cid = _draft(admin)
    preview = admin.post(f"/v1/campaigns/{cid}/preview").json()
    assert preview["planned"] == 0
    assert preview["first_send_at"] is None
    refused = admin.post(f"/v1/campaigns/{cid}/launch")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "nothing_to_send"
    assert "no_consent 1" in refused.json()["detail"]
    assert admin.get(f"/v1/campaigns/{cid}").json()["status"] == "draft"
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    empty = _draft(admin, audience="tag:nobody")
    answer = admin.post(f"/v1/campaigns/{empty}/launch")
    assert answer.status_code == 409
    assert "audience is empty" in answer.json()["detail"]


def test_a_preview_gives_the_first_and_last_send_time(admin: ApiClient, engine: Engine) -> None:
    _audience(engine)
    cid = _draft(admin)
    preview = admin.post(f"/v1/campaigns/{cid}/preview").json()
    assert preview["planned"] == 1
    assert preview["first_send_at"] is not None
    assert preview["first_send_at"] <= preview["last_send_at"]
