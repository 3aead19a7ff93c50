"""`/v1/keywords`: create, read, change, switch off and delete a workspace keyword; reserved
words and bad answers refused with the field named; reading needs `read`, writing `write`."""

from __future__ import annotations

from sqlalchemy import Engine, select
from tests.factories.api import ApiClient

from textopt.accounts.models import AuditEntry
from textopt.db.engine import session_scope

HOURS = {"fr": "Ouvert 9h-19h du lundi au samedi.", "en": "Open 9am-7pm, Monday to Saturday."}


def test_a_keyword_is_created_read_changed_switched_off_and_deleted(
    admin: ApiClient, engine: Engine
) -> None:
    created = admin.post("/v1/keywords", json={"word": " Horaires ", "texts": HOURS})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["word"], body["texts"], body["enabled"]) == ("HORAIRES", HOURS, True)
    assert admin.get("/v1/keywords").json() == [body]
    assert admin.get("/v1/keywords/horaires").json()["id"] == body["id"]
    assert admin.get(f"/v1/keywords/{body['id']}").json()["word"] == "HORAIRES"
    changed = admin.patch("/v1/keywords/HORAIRES", json={"enabled": False})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["texts"]) == (False, HOURS)
    renamed = admin.patch(
        f"/v1/keywords/{body['id']}", json={"word": "heures", "texts": {"fr": "9h-19h"}}
    )
    assert (renamed.json()["word"], renamed.json()["texts"]) == ("HEURES", {"fr": "9h-19h"})
    assert admin.delete("/v1/keywords/heures").status_code == 204
    assert admin.get("/v1/keywords/heures").status_code == 404
    assert admin.get("/v1/keywords").json() == []
    with session_scope(engine) as s:
        audited = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "keyword")
        ).all()
    assert audited == ["keyword.created", "keyword.changed", "keyword.changed", "keyword.deleted"]


def test_reserved_words_taken_words_and_bad_answers_are_refused_with_the_field(
    admin: ApiClient,
) -> None:
    for word in ("STOP", "Arrêt", "oui", "HELP", "aide"):
        refused = admin.post("/v1/keywords", json={"word": word, "texts": HOURS})
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "word"
        assert "reserved" in refused.json()["detail"]
    spaced = admin.post("/v1/keywords", json={"word": "opening hours", "texts": HOURS})
    assert spaced.status_code == 422
    assert "one word" in spaced.json()["detail"]
    italian = admin.post("/v1/keywords", json={"word": "orari", "texts": {"it": "9-19"}})
    assert italian.status_code == 422
    assert italian.json()["field"] == "texts"
    assert admin.post("/v1/keywords", json={"word": "horaires", "texts": HOURS}).status_code == 201
    taken = admin.post("/v1/keywords", json={"word": "HORAIRES", "texts": HOURS})
    assert taken.status_code == 409
    assert taken.json()["field"] == "word"


def test_a_viewer_reads_keywords_but_cannot_change_them(
    admin: ApiClient, viewer: ApiClient
) -> None:
    assert admin.post("/v1/keywords", json={"word": "horaires", "texts": HOURS}).status_code == 201
    assert [k["word"] for k in viewer.get("/v1/keywords").json()] == ["HORAIRES"]
    assert viewer.post("/v1/keywords", json={"word": "promo", "texts": HOURS}).status_code == 403
    assert viewer.patch("/v1/keywords/horaires", json={"enabled": False}).status_code == 403
    assert viewer.delete("/v1/keywords/horaires").status_code == 403
