"""The web face over real HTTP: roles, CSRF, the signup form's guards, short links, headers."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from tests.factories.api import PASSWORD, make_user
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.inbound import text_in
from tests.factories.keys import TEST_DIGEST
from tests.factories.web import sign_in_form, signup_list
from tests.servers.web import LiveServer

from textopt.accounts.models import Role
from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.consent.models import ConsentEvent, SuppressionReason
from textopt.consent.service import suppress
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.gdpr.service import erase_person
from textopt.links.models import LinkClick
from textopt.links.service import link_base, rewrite_links
from textopt.outbox.models import Message

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=20) as client:
        yield client


def _sign_in(http: httpx.Client, engine: Engine, role: Role) -> str:
    """Sign in a new user of `role`; returns the session's CSRF token."""
    email = f"{role}@boutique.example"
    make_user(engine, email, role)
    answer = sign_in_form(http, email, PASSWORD)
    assert answer.status_code == 303
    page = http.get("/app/")
    token = _CSRF.search(page.text)
    assert token is not None
    return token.group(1)


def test_pages_need_a_session_and_the_api_keeps_its_problem_answers(http: httpx.Client) -> None:
    answer = http.get("/app/campaigns")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/app/login?next=/app/campaigns"
    api = http.get("/v1/campaigns")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")


def test_a_viewer_reads_but_cannot_create_or_launch(http: httpx.Client, engine: Engine) -> None:
    csrf = _sign_in(http, engine, Role.VIEWER)
    listing = http.get("/app/campaigns")
    assert listing.status_code == 200
    assert "/app/campaigns/new" not in listing.text
    assert http.get("/app/campaigns/new").status_code == 403
    refused = http.post("/app/segments", data={"name": "x", "filter": "tag:x", "csrf_token": csrf})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    http: httpx.Client, engine: Engine
) -> None:
    _sign_in(http, engine, Role.MARKETER)
    for token in (None, "forged"):
        data = {"name": "vip", "filter": "tag:vip"} | ({"csrf_token": token} if token else {})
        assert http.post("/app/segments", data=data).status_code == 403
    page = http.get("/app/segments").text
    assert "<td>vip</td>" not in page


def test_the_viewer_cannot_reach_an_admin_setting(http: httpx.Client, engine: Engine) -> None:
    csrf = _sign_in(http, engine, Role.MARKETER)
    answer = http.post(
        "/app/settings/lists",
        data={
            "name": "Club",
            "slug": "club",
            "brand": "B",
            "consent_text_version": "v1",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 403


def test_pages_forbid_other_origins_for_scripts_styles_and_framing(
    http: httpx.Client, engine: Engine
) -> None:
    _sign_in(http, engine, Role.VIEWER)
    headers = http.get("/app/").headers
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"


def _signup(http: httpx.Client, phone: str, *, consent: str = "yes") -> httpx.Response:
    form = http.get("/s/club")
    token = _FORM_TOKEN.search(form.text)
    assert token is not None
    return http.post(
        "/s/club", data={"phone": phone, "consent": consent, "form_token": token.group(1)}
    )


def test_the_signup_form_refuses_a_post_without_its_token_or_without_the_box(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as session:
        signup_list(session)
    bare = http.post("/s/club", data={"phone": "06 12 34 56 78", "consent": "yes"})
    assert bare.status_code == 403
    unticked = _signup(http, "06 12 34 56 78", consent="")
    assert unticked.status_code == 422
    assert "Cochez la case" in unticked.text
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_the_signup_answer_says_nothing_about_whether_a_number_is_known_or_erased(
    http: httpx.Client, engine: Engine
) -> None:
    with session_scope(engine) as session:
        signup_list(session)
        suppress(
            session, digest=TEST_DIGEST, phone="+33612345601", reason=SuppressionReason.ERASURE
        )
        add_contact(session, "+33612345602", first_name="Bruno")
    answers = [_signup(http, f"06 12 34 56 0{n}") for n in (1, 2, 3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = {
        a.text.replace(f"06 12 34 56 0{n}", "NUMBER")
        for n, a in zip((1, 2, 3), answers, strict=True)
    }
    assert len(bodies) == 1
    assert "Bruno" not in answers[1].text


def test_a_short_link_redirects_counts_the_click_and_an_unknown_one_tells_nothing(
    http: httpx.Client, engine: Engine, live: LiveServer
) -> None:
    base = link_base(live.settings)
    with session_scope(engine) as session:
        contact = add_contact(session, "+33612345601")
        campaign = new_campaign(session, live.settings)
        [text] = rewrite_links(
            session,
            texts=[(contact.id, "https://shop.example.fr/soldes?utm=sms")],
            campaign_id=campaign.id,
            base=base,
        )
    code = text.removeprefix(base)
    for path in (f"/l/{code}", f"/{code}"):
        answer = http.get(path)
        assert answer.status_code == 302
        assert answer.headers["location"] == "https://shop.example.fr/soldes?utm=sms"
        assert answer.headers["cache-control"] == "no-store"
    unknown = http.get("/l/ZZZZZZZ")
    assert unknown.status_code == 404
    assert "ZZZZZZZ" not in unknown.text
    assert "shop.example.fr" not in unknown.text
    assert http.get("/docs").status_code == 200  # the API's own pages still come first
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(LinkClick)) == 2


def test_the_campaign_page_names_why_sent_messages_stayed_unconfirmed(
    http: httpx.Client, engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as s:
        for n in range(3):
            add_contact(s, f"+3361234567{n}")
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        campaign_id = campaign.id
        s.execute(
            update(Message)
            .where(Message.campaign_id == campaign_id)
            .values(status="unknown", reason="no_receipt", done_at=WEDNESDAY_10H)
        )
    _sign_in(http, engine, Role.VIEWER)
    page = http.get(f"/app/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert "Non confirmés, par raison" in page.text
    assert "Aucun accusé de réception reçu" in page.text
    assert "no_receipt" not in page.text  # the code is never shown bare


def test_an_upload_left_at_its_mapping_is_deleted_by_an_erasure_and_after_its_keep_time(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    csrf = _sign_in(http, engine, Role.MARKETER)
    folder = Path(str(campaign_settings.upload_dir))

    def upload(text: str) -> str:
        answer = http.post(
            "/app/import",
            data={"csrf_token": csrf},
            files={"file": ("clients.csv", text.encode(), "text/csv")},
        )
        assert answer.status_code == 200, answer.text
        token = re.search(r'action="/app/import/([A-Za-z0-9_-]+)"', answer.text)
        assert token is not None
        return token.group(1)

    with session_scope(engine) as s:
        alice = add_contact(s, "+33612345678")
    alices = upload("phone;first_name\n06 12 34 56 78;Alice\n")
    others = upload("phone;first_name\n06 98 76 54 32;Bob\n")
    assert (folder / f"{alices}.csv").is_file()
    with session_scope(engine) as s:
        report = erase_person(s, contact=s.get_one(Contact, alice.id), settings=campaign_settings)
    assert report.files_deleted == 1
    assert not (folder / f"{alices}.csv").exists()
    gone = http.post(
        f"/app/import/{alices}", data={"csrf_token": csrf}, headers={"Accept-Language": "fr"}
    )
    assert gone.status_code == 404
    assert "n&#39;est plus disponible" in gone.text or "n'est plus disponible" in gone.text
    # Bob's upload is abandoned: past upload_keep_hours the next upload deletes it
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(folder / f"{others}.csv", (two_days_ago, two_days_ago))
    upload("phone\n06 11 22 33 44\n")
    assert not (folder / f"{others}.csv").exists()


def test_the_contact_page_says_in_words_what_each_message_received_did(
    http: httpx.Client, engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, "+33612345678").id
        text_in(s, campaign_settings, sender="+33612345678", text="STOP", message_id="mo-1")
        text_in(s, campaign_settings, sender="+33612345678", text="Stop", message_id="mo-2")
    _sign_in(http, engine, Role.VIEWER)
    page = http.get(f"/app/contacts/{contact_id}", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert "STOP appliqué : consentement retiré" in page.text
    assert "STOP déjà appliqué" in page.text
    assert "already_stopped" not in page.text  # the code is never shown bare


def test_the_import_result_names_each_rejection_and_warning_in_the_viewers_language(
    http: httpx.Client, engine: Engine
) -> None:
    csrf = _sign_in(http, engine, Role.MARKETER)
    answer = http.post(
        "/app/import",
        data={"csrf_token": csrf},
        files={"file": ("clients.csv", b"phone;email\n06 12;\n06 98 76 54 32;x@\n", "text/csv")},
    )
    token = re.search(r'action="/app/import/([A-Za-z0-9_-]+)"', answer.text)
    assert token is not None
    started = http.post(
        f"/app/import/{token.group(1)}",
        data={"csrf_token": csrf},
        headers={"Accept-Language": "fr"},
    )
    assert started.status_code == 303, started.text
    deadline = time.monotonic() + 60  # a bound on the wait for the background job
    while time.monotonic() < deadline:
        state = http.get(started.headers["location"] + "/progress").json()["state"]
        if state != "running":
            break
        time.sleep(0.1)
    done = http.get(started.headers["location"], headers={"Accept-Language": "fr"})
    assert done.status_code == 200, done.text
    assert "le numéro de téléphone n’est pas valide" in done.text
    assert "adresse e-mail non valide (le téléphone de la ligne est gardé)" in done.text


def test_a_form_missing_fields_names_them_in_the_viewers_language(
    http: httpx.Client, engine: Engine
) -> None:
    csrf = _sign_in(http, engine, Role.ADMIN)
    answer = http.post(
        "/app/settings/lists",
        data={"name": "Club", "brand": "B", "csrf_token": csrf},
        headers={"Accept-Language": "fr"},
    )
    assert answer.status_code == 422
    assert "Des champs manquent ou sont invalides." in answer.text
    assert "version du texte" in answer.text  # consent_text_version, in words
    assert "consent_text_version" not in answer.text.split("<main", 1)[1]


def test_an_address_or_method_the_dashboard_lacks_is_explained_in_french(
    http: httpx.Client, engine: Engine
) -> None:
    _sign_in(http, engine, Role.MARKETER)
    french = {"Accept-Language": "fr"}
    missing = http.get("/app/nothing-here", headers=french)
    assert missing.status_code == 404
    assert "Cette adresse ne mène nulle part." in missing.text
    assert "Not Found" not in missing.text
    wrong = http.delete("/app/contacts", headers=french)
    assert wrong.status_code == 405
    assert "Cette page ne reçoit pas ce genre de demande." in wrong.text
    assert "Method Not Allowed" not in wrong.text
