"""`make demo`: the whole story on SQLite with the sandbox provider, in under a minute.

A French shop imports its customers (a few thousand, from France, Belgium, the US and the
UK; some without consent, some who said STOP, some rows invalid), checks its consent ledger,
previews and launches a winter sale, sends appointment confirmations, dispatches until
nothing is due and prints the report; customers write back (the inbox: one answered,
two unread; at night or on a Sunday, when the sale waits, customers the confirmations
reached); then sends a newsletter on two channels (an SMS teaser
to SMS subscribers, the full email to the others). The database is left in `demo/`, with
`demo/nouveaux-clients.csv`, the new customers the README's tour imports: campaigns 1 to 3
are the demo's, the tour's own campaign is number 4 (`tests/acceptance/test_readme_tour.py`
runs the tour on a fresh demo, so these numbers are checked).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, select

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import campaign_report
from textopt.campaigns.segments import count_audience, create_segment
from textopt.config import Settings, load_settings, reset_settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentAction, ConsentSource, ConsentState, FrequencyLimit
from textopt.consent.preferences import PreferenceChoice, save_preferences
from textopt.consent.suppression import address_digester
from textopt.contacts.importer import import_contacts
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.migrate import upgrade
from textopt.demo.contacts import FEATURED_FR_NUMBER, FEATURED_US_NUMBER, write_demo_csv
from textopt.demo.flows import run_flows_demo
from textopt.demo.inbox import demo_conversations
from textopt.dispatch.worker import run_dispatch
from textopt.vocab import Channel, Purpose

console = Console()
DEMO = Path("demo")
CONFIG = """\
# textopt demo configuration: `export TEXTOPT_CONFIG=demo/textopt.toml` to explore it.
database_url = "sqlite:///demo/textopt.db"
secret_file = "demo/textopt.secret"
default_region = "FR"
brand_name = "Boutique Lumiere"
stop_number = "36111"
default_provider = "sandbox"
sender_ids = ["LUMIERE"]  # the sender IDs registered with the providers: no other is used

public_base_url = "https://boutique-lumiere.example"
email_from_address = "lettre@boutique-lumiere.example"

[providers.sandbox]
kind = "sandbox"
rate = 2000
receipt_delay = 0.02
failure_rate = 0.03
expiry_rate = 0.01

# The email account: a real shop sets kind = "smtp" with its relay (docs/providers.md).
[providers.email]
kind = "sandbox"
channel = "email"
rate = 500
receipt_delay = 0.02
failure_rate = 0.01
expiry_rate = 0
"""
EMAIL_CONSENT_TEXT = (
    "Je souhaite recevoir par email la lettre de Boutique Lumiere (une par mois). "
    "Desinscription en un clic dans chaque lettre."
)
NEWSLETTER = """<html><body>
<h1>{{ first_name | default('Bonjour') }}, la lettre d'hiver de Boutique Lumiere</h1>
<p>Les soldes continuent jusqu'a dimanche : <b>-20% sur tout</b>, et les nouveautes de la
saison sont arrivees en boutique.</p>
<ul><li>Manteaux et doudounes</li><li>Pulls en laine</li><li>Accessoires</li></ul>
<p><a href="https://boutique-lumiere.example/hiver">Voir la collection</a></p>
</body></html>"""
CONSENT_TEXT = (
    "J'accepte de recevoir par SMS les offres de Boutique Lumiere (2 par mois au plus). "
    "Desinscription gratuite a tout moment par STOP au 36111."
)


def _step(text: str) -> None:
    console.print(f"\n[bold cyan]▶ {text}[/]")


def _progress(label: str, total: int | None) -> Progress:
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    progress.add_task(label, total=total)
    return progress


def main() -> None:
    """Run the demo from scratch."""
    started = utcnow()
    if DEMO.exists():
        shutil.rmtree(DEMO)
    DEMO.mkdir()
    (DEMO / "textopt.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(DEMO / "textopt.toml", environ={})
    reset_settings(settings)
    engine = create_db_engine(settings.database_url)

    _step("Creating the database")
    upgrade(engine)
    console.print(f"  {settings.database_url}")

    _step("Registering the consent text shown on the signup form")
    with session_scope(engine) as s:
        consent.add_consent_text(s, version="sms-fr-v1", body=CONSENT_TEXT)
    console.print(f"  sms-fr-v1: {CONSENT_TEXT}")

    _step("Importing the shop's customers (a French spreadsheet: `;`, UTF-8 with BOM)")
    csv_path = DEMO / "clients.csv"
    write_demo_csv(csv_path, count=3000)
    with _progress("importing", None) as bar:
        task = bar.task_ids[0]
        report = import_contacts(
            engine,
            settings=settings,
            path=csv_path,
            default_region=settings.default_region,
            progress=lambda p: bar.update(task, completed=p.rows_read, total=p.total_rows),
        )
    table = Table(show_header=False)
    for key, value in report.to_dict().items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
        if key not in ("path", "rejects_path"):
            table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    if report.rejects_path:
        console.print(f"  rejected rows and warnings, with line numbers: {report.rejects_path}")

    # the README tour's own file: new customers from the shop's till, imported by hand
    write_demo_csv(DEMO / "nouveaux-clients.csv", count=40, seed=2027, first=3000)

    _preferences(engine, settings)

    _step("Checking the consent ledger's hash chain")
    with session_scope(engine) as s:
        ledger = consent.verify_ledger(s, digest=address_digester(settings.resolved_secret_key()))
    console.print(f"  {'intact' if ledger.ok else 'BROKEN'}: {ledger.events_checked} events")

    now = utcnow()
    _step("Previewing « Soldes d'hiver -20% » to every contact")
    with session_scope(engine) as s:
        create_segment(s, name="tous", filter="all", description="every contact")
        create_segment(s, name="rendez-vous", filter="tag:rdv", description="appointments")
        sale = campaigns.create_campaign(
            s,
            settings=settings,
            name="Soldes d'hiver -20%",
            template=(
                "{{ first_name | default('Bonjour') }}, les soldes d’hiver commencent : "
                "-20% sur tout chez Boutique Lumiere jusqu'a dimanche !"
            ),
            segment="tous",
            sender_id="LUMIERE",
            validity_hours=72,
        )
        confirm = campaigns.create_campaign(
            s,
            settings=settings,
            name="Confirmation de rendez-vous",
            template=(
                "Boutique Lumiere : votre essayage est confirme demain a 10h. "
                "Repondez AIDE pour nous joindre."
            ),
            segment="rendez-vous",
            purpose=Purpose.TRANSACTIONAL,
            sender_id="LUMIERE",
        )
        sale_id, confirm_id = sale.id, confirm.id
    with session_scope(engine) as s:
        sale = campaigns.get_campaign_or_raise(s, campaign_id=sale_id)
        total = count_audience(s, filter=sale.audience_filter, now=now)
        preview = campaigns.preview(s, campaign=sale, settings=settings, now=now)
    _print_plan(preview.to_dict(), total)
    saturday = _next_saturday_evening(now)
    with session_scope(engine) as s:
        sale = campaigns.get_campaign_or_raise(s, campaign_id=sale_id)
        later = campaigns.preview(s, campaign=sale, settings=settings, now=saturday)
    console.print(f"  the same, if launched {saturday:%A %d %B %H:%M} (Paris):")
    _print_plan(later.to_dict(), total)

    _step("Launching it: every recipient planned into the outbox, with a reason if not sent")
    with session_scope(engine) as s:
        sale = campaigns.get_campaign_or_raise(s, campaign_id=sale_id)
        planned = campaigns.launch(s, campaign=sale, settings=settings, now=now)
        confirm = campaigns.get_campaign_or_raise(s, campaign_id=confirm_id)
        confirmations = campaigns.launch(s, campaign=confirm, settings=settings, now=now)
    console.print(
        f"  sale: {planned.planned} planned ({sum(planned.deferred.values())} deferred), "
        f"{sum(planned.blocked.values())} excluded; confirmations: {confirmations.planned}"
    )

    _step("Dispatching through the sandbox SMSC until nothing is due")
    with _progress("sending", planned.send_now + confirmations.send_now) as bar:
        task = bar.task_ids[0]
        stats = run_dispatch(
            engine,
            settings,
            once=True,
            progress=lambda st: bar.update(task, completed=st.submitted),
        )
    console.print(
        f"  submitted {stats.submitted}, receipts {stats.receipts}, retried {stats.retried}"
    )

    for campaign_id in (sale_id, confirm_id):
        with session_scope(engine) as s:
            data = campaign_report(
                s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=campaign_id)
            )
        _print_report(data)

    _step("Customers write back: the inbox")
    demo_conversations(
        engine,
        settings,
        sale_id=sale_id,
        fallback_id=confirm_id,
        avoid=(FEATURED_FR_NUMBER, FEATURED_US_NUMBER),
        console=console,
    )

    letter_id = _newsletter(engine, settings)

    _step("Flows: a clinic's appointment reminders, the shop's welcome and birthday offers")
    run_flows_demo(engine, settings, console)

    seconds = (utcnow() - started).total_seconds()
    console.print(f"\n[bold green]Demo done in {seconds:.1f} s.[/] Explore it:")
    console.print("  export TEXTOPT_CONFIG=demo/textopt.toml")
    for command in (
        "textopt contacts list --limit 10",
        f"textopt consent history '{FEATURED_FR_NUMBER}'",
        f"textopt campaign report {sale_id}",
        f"textopt campaign report {letter_id}   # SMS and email side by side",
        f"textopt campaign why {sale_id} '{FEATURED_US_NUMBER}'",
        "textopt consent verify",
        "textopt inbox list   # customers who wrote back",
        "textopt flows list   # and textopt flows stats 'Rappel de rendez-vous (clinique)'",
        "textopt contacts import demo/nouveaux-clients.csv   # then the README's tour",
    ):
        console.print(f"  .venv/bin/{command}")
    engine.dispose()


def _preferences(engine: Engine, settings: Settings) -> None:
    """Two customers use the preference centre their link opens: one keeps reminders but stops
    promotions, one keeps promotions at most twice a month."""
    _step("Two customers choose in the preference centre (the page of their unsubscribe link)")
    with session_scope(engine) as s:
        consenting = select(ConsentState.contact_id).where(
            ConsentState.channel == Channel.SMS,
            ConsentState.purpose == Purpose.MARKETING,
            ConsentState.status == ConsentAction.GRANTED,
        )
        # the last customers imported: never the README tour's featured people (rows 1-2)
        people = s.execute(
            select(Contact.id, Contact.phone)
            .where(Contact.id.in_(consenting), Contact.phone.is_not(None))
            .order_by(Contact.id.desc())
            .limit(2)
        ).all()
        choices = (
            PreferenceChoice(Channel.SMS, promotions=False, reminders=True, frequency=None),
            PreferenceChoice(
                Channel.SMS, promotions=True, reminders=True, frequency=FrequencyLimit.TWO_A_MONTH
            ),
        )
        for (contact_id, _phone), choice in zip(people, choices, strict=False):
            save_preferences(
                s,
                digest=address_digester(settings.resolved_secret_key()),
                contact_id=contact_id,
                choices=[choice],
                source=ConsentSource.UNSUBSCRIBE_LINK,
                now=utcnow(),
                proof={"link": "preferences", "demo": True},
            )
    words = ("keeps reminders, stops promotions", "promotions at most 2 a month")
    for (_contact_id, phone), what in zip(people, words, strict=False):
        console.print(f"  {phone}: {what}  (textopt consent preferences '{phone}')")


def _newsletter(engine: Engine, settings: Settings) -> int:
    """A multichannel newsletter: an SMS teaser where SMS is allowed, else the full email."""
    _step("A newsletter on two channels: an SMS teaser, else the full letter by email")
    now = utcnow()
    with session_scope(engine) as s:
        consent.add_consent_text(
            s, version="email-fr-v1", body=EMAIL_CONSENT_TEXT, channel=Channel.EMAIL
        )
        # Website newsletter signups: most customers with an address and no SMS consent.
        sms_ok = select(ConsentState.contact_id).where(
            ConsentState.channel == Channel.SMS,
            ConsentState.purpose == Purpose.MARKETING,
            ConsentState.status.in_(("granted", "confirmed")),
        )
        candidates = s.scalars(
            select(Contact.id).where(Contact.email.is_not(None), Contact.id.not_in(sms_ok))
        ).all()
        signed_up = [cid for cid in candidates if cid % 5]
        consent.append_events(
            s,
            digest=address_digester(settings.resolved_secret_key()),
            events=[
                consent.NewConsentEvent(
                    contact_id=cid,
                    channel=Channel.EMAIL,
                    purpose=Purpose.MARKETING,
                    action=ConsentAction.GRANTED,
                    source=ConsentSource.FORM,
                    occurred_at=now - dt.timedelta(days=60),
                    consent_text_version="email-fr-v1",
                    proof={"form": "https://boutique-lumiere.example/lettre"},
                )
                for cid in signed_up
            ],
        )
        letter = campaigns.create_campaign(
            s,
            settings=settings,
            name="Lettre d'hiver",
            template="La lettre d'hiver de Boutique Lumiere est sortie : -20% jusqu'a dimanche !",
            segment="tous",
            sender_id="LUMIERE",
            validity_hours=72,
            channels="sms-else-email",
            email_subject="{{ first_name | default('Bonjour') }}, la lettre d'hiver est arrivee",
            email_template=NEWSLETTER,
        )
        planned = campaigns.launch(s, campaign=letter, settings=settings, now=now)
        letter_id = letter.id
    console.print(
        f"  {len(signed_up):,} newsletter signups recorded (email consent, form, email-fr-v1)"
    )
    _print_channels(planned.to_dict())
    stats = run_dispatch(engine, settings, once=True)
    console.print(f"  sent now: {stats.submitted} (the SMS teasers wait for the daily cap)")
    with session_scope(engine) as s:
        data = campaign_report(
            s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=letter_id)
        )
    table = Table(title=f"report: {data['name']}, channels side by side")
    table.add_column("")
    for name in data["channels"]:
        table.add_column(name, justify="right")
    for key in ("messages", "sent", "delivered", "waiting"):
        table.add_row(key, *(f"{c[key]:,}" for c in data["channels"].values()))
    console.print(table)
    return letter_id


def _print_channels(data: dict[str, Any]) -> None:
    for name, section in data["channels"].items():
        excluded = ", ".join(f"{r} {n:,}" for r, n in section["blocked"].items()) or "none"
        deferred = ", ".join(f"{r} {n:,}" for r, n in section["deferred"].items()) or "none"
        console.print(
            f"  {name:>5}: decided for {section['audience']:,}, {section['planned']:,} to send "
            f"({section['send_now']:,} now; deferred: {deferred}); excluded: {excluded}; "
            f"cost {section['cost']} {section['currency']}",
            highlight=False,
        )
    console.print(f"  {data['reached']:,} of {data['audience']:,} customers reached")


def _next_saturday_evening(now: dt.datetime) -> dt.datetime:
    """Next Saturday at 20:30 in Paris: after hours, and the next day is a Sunday."""
    paris = now.astimezone(ZoneInfo("Europe/Paris"))
    days = (5 - paris.weekday()) % 7 or 7
    day = (paris + dt.timedelta(days=days)).date()
    return dt.datetime.combine(day, dt.time(20, 30), tzinfo=ZoneInfo("Europe/Paris"))


def _print_plan(data: dict[str, object], audience: int) -> None:
    console.print(
        f"  audience {audience:,}: {data['planned']:,} to send, {data['send_now']:,} at once"
    )
    for title, key in (("excluded", "blocked"), ("deferred", "deferred")):
        counts = data[key]
        assert isinstance(counts, dict)
        if counts:
            console.print(
                f"  {title}: " + ", ".join(f"{reason} {n:,}" for reason, n in counts.items())
            )
    console.print(
        f"  {data['segments']:,} segments, {data['cost']} {data['currency']}; smart encoding "
        f"saves {data['smart_encoding_saving_segments']:,} segments"
    )


def _print_report(data: dict[str, object]) -> None:
    table = Table(title=f"report: {data['name']} ({data['status']})")
    table.add_column("")
    table.add_column("", justify="right")
    for key in ("messages", "sent", "delivered", "waiting", "expired", "unknown"):
        table.add_row(key, f"{data[key]:,}")
    for group in ("blocked_by_reason", "deferred_by_reason", "failed_by_code"):
        values = data[group]
        assert isinstance(values, dict)
        for reason, count in values.items():
            table.add_row(f"{group.split('_')[0]}: {reason}", f"{count:,}")
    table.add_row("cost sent", f"{data['cost_sent']} {data['currency']}")
    console.print(table)


if __name__ == "__main__":
    main()
