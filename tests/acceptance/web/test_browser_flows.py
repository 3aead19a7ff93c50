"""Real headless Chromium: a clinic's marketer builds an appointment reminder in the step list
editor (in French, then edits it in English), previews it for a patient and activates it;
the booking system posts `appointment_booked` to the API, the flow runner writes the
reminder, the patient answers OUI, and the contact page shows the reminder and the
`appointment_confirmed` event while the flow's page counts the step."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select
from tests.acceptance.web.conftest import Pages
from tests.factories.api import PASSWORD, make_key, make_user
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in
from tests.servers.web import LiveServer

from textopt.accounts.models import Role, Scope
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.events.models import ContactEvent
from textopt.flows.jobs import run_flows
from textopt.outbox.models import Message

PHONE = "+33612345678"
REMINDER = "Rappel : rendez-vous le {{ when | datetime }} à la clinique. Répondez OUI ou ANNULER."


def _wait_for(condition: Callable[[], bool], *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.2)


def _reminder_left(engine: Engine) -> bool:
    """The reminder went out (the question it asks is open once its message left)."""
    with session_scope(engine) as s:
        status = s.scalar(select(Message.status).where(Message.idempotency_key.like("flow-%")))
    return status in ("sent", "delivered")


def test_a_reminder_built_in_the_editor_is_triggered_by_an_event_and_answered_oui(
    page: Page, pages: Pages, live: LiveServer, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, PHONE, first_name="Léa", tags=("patient",)).id
    make_user(engine, "accueil@clinique.example", Role.MARKETER)
    page.goto("/app/login")
    page.locator("#email").fill("accueil@clinique.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/app/login" not in url)

    # in French: the trigger, a message step, a wait added and moved before it
    page.get_by_role("navigation").get_by_role("link", name="Parcours", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Parcours")
    page.get_by_role("link", name="Nouveau parcours").click()
    pages.check("flow-new")
    page.get_by_label("Nom", exact=True).fill("Rappel de rendez-vous")
    page.get_by_label("Démarre sur").select_option("event")
    page.get_by_label("Type d’événement (déclencheur événement)").fill("appointment_booked")
    page.get_by_label("Clé d’occurrence (une propriété de l’événement, facultative)").fill(
        "appointment_id"
    )
    page.locator("#s0_template").fill(REMINDER)
    page.locator("#s0_asks").select_option("appointment")
    page.get_by_role("button", name="Ajouter une attente").click()
    expect(page.locator("#step-1 legend")).to_have_text("Étape 2 : attente")
    expect(page.locator("#s0_template")).to_have_value(REMINDER)  # nothing typed is lost
    page.locator("#step-1").get_by_role("button", name="Monter").click()
    expect(page.locator("#step-0 legend")).to_have_text("Étape 1 : attente")
    page.locator("#s0_until").fill("appointment_at - 24x")
    page.get_by_label("S’arrête avant la fin sur ces événements (facultatif)").fill(
        "appointment_cancelled"
    )
    page.get_by_role("button", name="Enregistrer le parcours").last.click()
    expect(page.locator("#s0_until-error")).to_contain_text(
        "étape 1 (attente) : « appointment_at - 24x » n’est pas une durée après « - »"
    )
    expect(page.locator("#step-0")).to_have_class("card has-error")
    pages.check("flow-error")
    page.locator("#s0_until").fill("appointment_at - 24h")
    page.get_by_label("Contact (numéro, e-mail ou n°)").fill("06 12 34 56 78")
    page.get_by_role("button", name="Aperçu", exact=True).click()
    preview = page.locator("#preview-steps")
    expect(preview).to_contain_text("pas encore d’événement appointment_booked")
    expect(preview).to_contain_text("aucune date à attendre")
    pages.check("flow-preview")
    page.get_by_role("button", name="Enregistrer le parcours").last.click()
    expect(page.get_by_role("status")).to_have_text(
        "Parcours enregistré en brouillon. Activez-le quand il est prêt."
    )
    page.get_by_role("button", name="Activer").click()
    expect(page.locator("#flow-state")).to_have_text("actif")
    flow_url = page.url.split("?")[0]

    # in English: a live flow's edit is a new version, said before saving
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="Edit the flow").click()
    expect(page.locator("#new-version-note")).to_contain_text("saving makes version 2")
    pages.check("flow-edit-en")
    page.locator("#s1_validity").fill("12h")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_role("status")).to_contain_text("New version saved")

    # the booking system posts the event; the runner writes the reminder; it goes out
    secret = make_key(engine, [Scope.EVENTS])
    appointment = (utcnow() + dt.timedelta(hours=3)).replace(microsecond=0)
    booked = httpx.post(
        f"{live.url}/v1/events",
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "booking-A-7"},
        json={"phone": PHONE, "type": "appointment_booked",
              "properties": {"appointment_id": "A-7", "appointment_at": appointment.isoformat()}},
        timeout=20,
    )  # fmt: skip
    assert booked.status_code in (200, 201), booked.text
    run_flows(engine, campaign_settings, now=utcnow())
    _wait_for(lambda: _reminder_left(engine))
    page.goto(f"/app/contacts/{contact_id}")
    expect(page.locator("body")).to_contain_text("Répondez OUI ou ANNULER")

    # the patient answers OUI: the answer is an event the page shows
    with session_scope(engine) as s:
        text_in(s, campaign_settings, sender=PHONE, text="oui", message_id="mo-1", at=utcnow())
        confirmed = s.scalars(
            select(ContactEvent).where(ContactEvent.type == "appointment_confirmed")
        ).one()
        assert confirmed.properties["appointment_id"] == "A-7"
    page.reload()
    events = page.locator("#events")
    expect(events).to_contain_text("appointment_confirmed")
    expect(events).to_contain_text("A-7")
    expect(page.locator("#flows")).to_contain_text("Rappel de rendez-vous")
    expect(page.locator("#flows")).to_contain_text("completed")  # the page is in English now
    pages.check("contact-confirmed")

    page.goto(flow_url)
    sent = page.locator("#stats-v2-step-2 td").nth(3)
    expect(sent).to_have_text("1")
    expect(page.locator("#runs")).to_contain_text("A-7")
    pages.check("flow-stats")
