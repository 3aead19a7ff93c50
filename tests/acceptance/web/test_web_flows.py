"""The flows pages in French and English: the step list editor (steps added, moved, removed,
nothing typed lost), an error shown beside its step and field, a preview for a contact,
save, activate, a new version when a live flow is edited, the stats per step, and who may
do what."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import add_contact
from tests.factories.flows import REMINDER, active_flow, add_event, run_at
from tests.factories.web import csrf_of, sign_in_form
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.flows import service
from textopt.flows.models import FlowState


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    """A client that keeps the session cookie and does not follow redirects."""
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _reminder_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "name": "Rappel de rendez-vous",
        "trigger_kind": "event",
        "trigger_event": "appointment_booked",
        "trigger_key": "appointment_id",
        "trigger_channel": "sms",
        "step_count": "2",
        "s0_kind": "wait",
        "s0_until": "appointment_at - 24h",
        "s1_kind": "send",
        "s1_channel": "sms",
        "s1_purpose": "transactional",
        "s1_template": "Rappel : rendez-vous le {{ when | datetime }}. OUI pour confirmer.",
        "s1_asks": "appointment",
        "exit_on": "appointment_cancelled",
    }
    form.update(changes)
    return form


def _legends(page: str) -> list[str]:
    return re.findall(r"<legend>([^<]+)</legend>", page)


def test_a_marketer_builds_a_reminder_step_by_step_with_errors_beside_their_field(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as s:
        add_contact(
            s, "+33612345678", first_name="Léa",
            attributes={"appointment_at": "2030-03-14T15:00:00+01:00"},
        )  # fmt: skip
    make_user(engine, "marketer@clinique.example", Role.MARKETER)
    assert sign_in_form(http, "marketer@clinique.example", PASSWORD).status_code == 303
    french = {"Accept-Language": "fr"}
    listing = http.get("/app/flows", headers=french).text
    assert "<h1>Parcours</h1>" in listing
    assert "Aucun parcours pour l’instant." in listing
    editor = http.get("/app/flows/new", headers=french)
    assert editor.status_code == 200
    csrf = csrf_of(editor.text)
    assert _legends(editor.text)[-1] == "Étape 1 : message"

    # one send step; a wait is added, then moved up: each button keeps what was typed
    typed: dict[str, Any] = {
        "csrf_token": csrf,
        "name": "Rappel",
        "trigger_kind": "event",
        "trigger_event": "appointment_booked",
        "step_count": "1",
        "s0_kind": "send",
        "s0_purpose": "transactional",
        "s0_template": "Rappel : {{ when | datetime }}",
    }
    added = http.post("/app/flows/new", data={**typed, "op": "add-wait"}, headers=french)
    assert added.status_code == 200
    assert _legends(added.text)[-2:] == ["Étape 1 : message", "Étape 2 : attente"]
    assert "Rappel : {{ when | datetime }}</textarea>" in added.text
    typed.update({"step_count": "2", "s1_kind": "wait", "s1_until": "appointment_at - 24x"})
    moved = http.post("/app/flows/new", data={**typed, "op": "up-1"}, headers=french)
    assert _legends(moved.text)[-2:] == ["Étape 1 : attente", "Étape 2 : message"]
    assert 'id="s0_until" name="s0_until" type="text" value="appointment_at - 24x"' in moved.text

    # the error is beside the field, in French, and the step is marked
    refused = http.post(
        "/app/flows/new",
        data={**typed, "s0_kind": "wait", "s0_until": "appointment_at - 24x", "s1_kind": "send",
              "s1_purpose": "transactional", "s1_template": "Rappel", "op": "save"},
        headers=french,
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'id="s0_until-error"' in refused.text
    assert "étape 1 (attente) : « appointment_at - 24x » n’est pas une durée après « - »" in (
        refused.text
    )
    assert 'class="card has-error" id="step-0"' in refused.text
    in_english = http.post(
        "/app/flows/new",
        data={**typed, "s0_kind": "wait", "s0_until": "appointment_at - 24x", "s1_kind": "send",
              "s1_purpose": "transactional", "s1_template": "Rappel", "op": "save"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip
    assert "step 1 (wait): &#39;appointment_at - 24x&#39; is not a duration after" in (
        in_english.text
    )

    # removed, then the whole reminder previewed for Léa and saved
    removed = http.post("/app/flows/new", data={**typed, "op": "remove-1"}, headers=french)
    assert _legends(removed.text)[-1] == "Étape 1 : message"
    preview = http.post(
        "/app/flows/new",
        data={**_reminder_form(csrf), "contact": "06 12 34 56 78", "op": "preview"},
        headers=french,
    )
    assert preview.status_code == 200, preview.text
    assert 'id="preview-steps"' in preview.text
    assert "2030-03-13 15:00 CET" in preview.text  # 24 hours before, in the contact's zone
    assert "Rappel : rendez-vous le" in preview.text
    assert "écrit dans la file d’envoi" in preview.text
    unknown = http.post(
        "/app/flows/new",
        data={**_reminder_form(csrf), "contact": "+33699999999", "op": "preview"},
        headers=french,
    )
    assert unknown.status_code == 422
    assert 'id="contact-error"' in unknown.text
    saved = http.post("/app/flows/new", data={**_reminder_form(csrf), "op": "save"})
    assert saved.status_code == 303
    flow_page = http.get(saved.headers["location"], headers=french).text
    assert "Parcours enregistré en brouillon." in flow_page
    assert "brouillon" in flow_page
    assert "demande OUI / ANNULER" in flow_page
    taken = http.post("/app/flows/new", data={**_reminder_form(csrf), "op": "save"}, headers=french)
    assert taken.status_code == 422
    assert 'id="name-error"' in taken.text
    assert "existe déjà" in taken.text


def test_activating_then_editing_a_live_flow_makes_a_new_version_and_stats_count_each_step(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    now = utcnow()
    with session_scope(engine) as s:
        contact = add_contact(s, "+33612345679", first_name="Marc", consent_at=None)
        flow_id = active_flow(s, REMINDER, now=now - dt.timedelta(minutes=5)).id
        service.change_state(
            s, flow=service.get_flow_or_raise(s, name_or_id=flow_id), state=FlowState.PAUSED,
            now=now,
        )  # fmt: skip
    make_user(engine, "marketer@clinique.example", Role.MARKETER)
    sign_in_form(http, "marketer@clinique.example", PASSWORD)
    french = {"Accept-Language": "fr"}
    page = http.get(f"/app/flows/{flow_id}", headers=french).text
    csrf = csrf_of(page)
    activated = http.post(f"/app/flows/{flow_id}/activate", data={"csrf_token": csrf})
    assert activated.headers["location"] == f"/app/flows/{flow_id}?notice=active"
    with session_scope(engine) as s:
        add_event(
            s, campaign_settings, s.get(type(contact), contact.id), "appointment_booked",
            now=utcnow(), appointment_id="A-7",
            appointment_at=(utcnow() + dt.timedelta(hours=2)).isoformat(),
        )  # fmt: skip
    run_at(engine, campaign_settings, utcnow())
    page = http.get(f"/app/flows/{flow_id}", headers=french).text
    assert "actif" in page
    step_row = re.search(r'id="stats-v1-step-2">(.*?)</tr>', page, re.DOTALL)
    assert step_row is not None
    assert re.findall(r"<td>(\d+)</td>", step_row.group(1))[:3] == ["1", "0", "1"]
    assert "A-7" in page

    editor = http.get(f"/app/flows/{flow_id}/edit", headers=french).text
    assert "enregistrer crée la version 2" in editor
    assert 'value="appointment_at - 1d"' in editor  # as the definition writes it back
    changed = _reminder_form(csrf, s1_template="Rappel : {{ when | datetime }}. OUI ou ANNULER.")
    saved = http.post(f"/app/flows/{flow_id}/edit", data={**changed, "op": "save"})
    assert saved.headers["location"] == f"/app/flows/{flow_id}?notice=versioned"
    again = http.post(f"/app/flows/{flow_id}/edit", data={**changed, "op": "save"})
    assert again.headers["location"] == f"/app/flows/{flow_id}?notice=unchanged"
    page = http.get(saved.headers["location"], headers={"Accept-Language": "en"}).text
    assert "New version saved" in page
    assert 'id="stats-v2"' in page
    assert 'id="stats-v1"' in page  # the first version keeps its occurrence and counts
    with session_scope(engine) as s:
        assert service.get_flow_or_raise(s, name_or_id=flow_id).latest_version == 2

    archived = http.post(f"/app/flows/{flow_id}/archive", data={"csrf_token": csrf})
    assert archived.status_code == 303
    page = http.get(archived.headers["location"], headers=french).text
    assert "Le parcours est archivé" in page
    assert "archivé</span>" in page
    assert f"/app/flows/{flow_id}/edit" not in page


def test_a_viewer_reads_flows_but_edits_nothing_and_a_form_without_its_token_is_refused(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as s:
        flow_id = active_flow(s, REMINDER, now=utcnow()).id
    make_user(engine, "viewer@clinique.example", Role.VIEWER)
    sign_in_form(http, "viewer@clinique.example", PASSWORD)
    listing = http.get("/app/flows", headers={"Accept-Language": "en"}).text
    assert "Rappel de rendez-vous" in listing
    assert "/app/flows/new" not in listing
    page = http.get(f"/app/flows/{flow_id}", headers={"Accept-Language": "en"}).text
    assert "Stats per step" in page
    assert "/edit" not in page
    assert "/pause" not in page
    assert http.get("/app/flows/new").status_code == 403
    csrf = csrf_of(page)
    assert http.post(f"/app/flows/{flow_id}/pause", data={"csrf_token": csrf}).status_code == 403
    assert http.post("/app/flows/new", data=_reminder_form(csrf)).status_code == 403
    make_user(engine, "marketer@clinique.example", Role.MARKETER)
    with httpx.Client(base_url=str(http.base_url), timeout=20) as other:
        sign_in_form(other, "marketer@clinique.example", PASSWORD)
        assert other.post(f"/app/flows/{flow_id}/pause", data={}).status_code == 403
        assert other.post("/app/flows/new", data=_reminder_form("forged")).status_code == 403
