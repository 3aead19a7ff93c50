"""A planning run: pages of the audience planned on the main thread, written in another.

Per batch of contacts: one query for the contacts with their consent, two or three for the
rest of what they need (cap history, a long suppression list, tags), and multi-row inserts that
run in a thread while the next batch is planned (`outbox.writers`). Campaigns that can be
planned by class of recipient (`classes`) take the set-based path.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.models import Campaign
from textopt.campaigns.planning.classes import ClassPlanner
from textopt.campaigns.planning.contacts import contact_batches, contacts_by_id
from textopt.campaigns.planning.context import RunContext, run_context
from textopt.campaigns.planning.recipients import RecipientPlanner
from textopt.campaigns.planning.report import PlanReport, by_count
from textopt.campaigns.planning.snapshot import reading_session
from textopt.campaigns.planning.tally import Tally
from textopt.compose import PriceTable
from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.errors import TemplateError
from textopt.outbox.models import Message
from textopt.outbox.states import MessageStatus
from textopt.outbox.writers import OutboxWriter, PlannedRows
from textopt.vocab import Channel, Purpose

__all__ = ["CAP_WINDOW_DAY", "plan_campaign", "planned_elsewhere", "preview_campaign"]

ProgressCallback = Callable[[int], None]
CAP_WINDOW_DAY = dt.timedelta(hours=24)


def _fast_constants(run: RunContext, provider: str | None) -> dict[str, Any]:
    """The outbox columns every row of a run planned by class shares."""
    return {
        "campaign_id": run.campaign_id,
        "channel": Channel.SMS.value,
        "purpose": run.purpose.value,
        "sender": run.sender,
        "expires_at": run.stored_expires,
        "decided_at": run.stored_start,
        "provider": provider,
        "idempotency_key": run.idempotency_prefix,
        "attempts": 0,
        "created_at": run.stored_now,
        "updated_at": run.stored_now,
    }


def _run(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    write: bool,
    batch_size: int,
    progress: ProgressCallback | None,
    prices: PriceTable | None,
) -> PlanReport:
    dialect = session.get_bind().dialect
    run = run_context(campaign, settings, now=now, prices=prices, write=write, dialect=dialect)
    report = PlanReport(
        campaign_id=campaign.id,
        start=run.start,
        expires_at=run.expires,
        channel_rule=str(run.rule),
    )
    tally = Tally(report, start=run.start, default_zone=run.workspace.default_timezone)
    recipients = RecipientPlanner(run, tally)
    for channel, section in tally.sections.items():
        account = settings.providers.get(run.providers[channel] or "", {})
        rate = campaign.throughput if channel == Channel.SMS else None
        section.throughput = float(rate or account.get("rate", 0) or 0)
    report.throughput = tally.sections[run.primary].throughput
    writer = OutboxWriter(session.connection()) if write else None
    before = _planned_count(session, campaign.id) if write else 0
    if run.by_class():
        classes = ClassPlanner(run, recipients, tally)
        # every read goes through `reads`; the writer writes through `session` (its
        # temporary tables once the reader has its snapshot: creating them is a write)
        with reading_session(session, beside=writer is not None and writer.threads) as reads:
            if writer is not None:
                writer.by_class(
                    _fast_constants(run, recipients.channels[Channel.SMS].provider),
                    linked=classes.linking,
                )
            _plan_by_class(
                session,
                reads,
                recipients,
                classes,
                writer,
                batch_size=batch_size,
                progress=progress,
            )
    else:
        _plan_one_by_one(session, run, recipients, writer, batch_size=batch_size, progress=progress)
    if writer is not None:
        writer.close()
    if write:
        report.written = _planned_count(session, campaign.id) - before
    return report


def _plan_one_by_one(
    session: Session,
    run: RunContext,
    recipients: RecipientPlanner,
    writer: OutboxWriter | None,
    *,
    batch_size: int,
    progress: ProgressCallback | None,
) -> None:
    """`_run` recipient by recipient.

    While the main thread plans batch n, a thread writes batch n-1: the driver binds and
    inserts without the interpreter lock. The connection is used by one thread at a time:
    reading a page and the batch's eligibility waits until the write is done. (Reads stay on
    the main thread: the driver takes the lock back for every row it reads.)
    """
    report = recipients.tally.report
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer") as background:
        pending: PlannedRows | None = None
        for contacts in contact_batches(session, run.audience_filter, run.start, batch_size):
            fetched = recipients.fetch(session, contacts)
            step = None
            if writer is not None and pending:
                if writer.threads:
                    step = background.submit(writer.write, pending)
                else:
                    writer.write(pending)
            try:
                rows = recipients.compute(contacts, fetched)
            finally:
                if step is not None:
                    step.result()  # the connection is free again
            pending = rows if not report.template_problems else None
            if progress is not None:
                progress(len(contacts))
        if writer is not None and pending:
            writer.write(pending)


def _plan_by_class(
    session: Session,
    reads: Session,
    recipients: RecipientPlanner,
    classes: ClassPlanner,
    writer: OutboxWriter | None,
    *,
    batch_size: int,
    progress: ProgressCallback | None,
) -> None:
    """`_run` by class of recipient: the page's outbox rows are built by the database.

    With a reading connection of its own (`snapshot.reading_session`), pages are read and
    planned while the writer's thread writes the previous one; otherwise the connection is
    shared, and the reads wait for the write as in `_plan_one_by_one`. With tracked links,
    the recipients planned one by one are planned once the write is done: their short
    codes are written on the planning transaction's own connection (`session`).
    """
    report = recipients.tally.report
    shared = writer is not None and reads.connection() is writer.connection
    threads = writer is not None and writer.threads

    def write(rows: PlannedRows | None) -> Future[None] | None:
        if writer is None or not rows or report.template_problems:
            return None
        if threads:
            return background.submit(writer.write, rows)
        writer.write(rows)
        return None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer") as background:
        step: Future[None] | None = None  # the write in progress
        pending: PlannedRows | None = None  # a shared connection: the page to write once read

        def read(ids: Collection[int]) -> list[Any]:
            nonlocal step
            if shared and step is not None:
                step.result()  # the connection is free again
                step = None
            return contacts_by_id(reads, ids)

        for page in classes.pages(reads, batch_size):
            numbers = classes.suppressed(reads, page)
            # the recipients planned one by one: recent marketing (caps), attributes SQLite
            # cannot read, or suppressed
            flagged = [row[0] for row in page if row[2]]
            alone_rows = [] if classes.linking else contacts_by_id(reads, flagged)
            alone_fetched = recipients.fetch(reads, alone_rows) if alone_rows else None
            if shared:
                step, pending = write(pending), None
            fast, suppressed = classes.plan(reads, page, numbers, read)
            rows = PlannedRows(fast=fast)
            if alone_fetched is not None:
                rows.sms = recipients.compute(alone_rows, alone_fetched).sms
            if step is not None:
                step.result()  # one write at a time, in page order; the connection is free
                step = None
            writes = reads
            if classes.linking:  # the connection is free: their short codes are written
                suppressed, writes = [*flagged, *suppressed], session
            if suppressed:  # on the list: planned one by one, with their own read
                contacts = contacts_by_id(reads, suppressed)
                fetched = recipients.fetch(writes, contacts)
                rows.sms.extend(recipients.compute(contacts, fetched).sms)
            if shared:
                pending = rows
            else:
                step = write(rows)  # beside the next page's reading and planning
            if progress is not None:
                progress(len(page))
        if pending is not None:
            step = write(pending)
        if step is not None:
            step.result()


def _planned_count(session: Session, campaign_id: int) -> int:
    query = select(func.count()).select_from(Message).where(Message.campaign_id == campaign_id)
    return int(session.scalar(query) or 0)


def preview_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 10_000,
    progress: ProgressCallback | None = None,
    prices: PriceTable | None = None,
) -> PlanReport:
    """Everything planning would do, written nowhere."""
    report = _run(
        session,
        campaign=campaign,
        settings=settings,
        now=now,
        write=False,
        batch_size=batch_size,
        progress=progress,
        prices=prices,
    )
    if settings.max_marketing_per_day is not None and campaign.purpose == Purpose.MARKETING:
        report.planned_elsewhere = planned_elsewhere(
            session, campaign=campaign, start=report.start, zone=settings.workspace_timezone
        )
    return report


def planned_elsewhere(
    session: Session, *, campaign: Campaign, start: dt.datetime, zone: str
) -> dict[str, int]:
    """People of the audience with marketing of another campaign planned within a day of
    `start`, by the local day of that message (the preview's warning: the cap will hold
    this campaign back for them). One aggregate query over the audience."""
    audience = select(Contact.id).where(
        compile_filter(parse_filter(campaign.audience_filter), now=start)
    )
    query = (
        select(Message.contact_id, func.min(Message.send_at))
        .where(
            Message.contact_id.in_(audience),
            Message.purpose == Purpose.MARKETING,
            Message.status.in_([str(MessageStatus.PLANNED), str(MessageStatus.QUEUED)]),
            Message.send_at > start - CAP_WINDOW_DAY,
            Message.send_at < start + CAP_WINDOW_DAY,
            Message.campaign_id.is_not(None),
            Message.campaign_id != campaign.id,
        )
        .group_by(Message.contact_id)
    )
    local = ZoneInfo(zone)
    days: Counter[str] = Counter()
    for _contact_id, at in session.execute(query):
        instant = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=dt.UTC)
        days[instant.astimezone(local).date().isoformat()] += 1
    return dict(sorted(days.items()))


def plan_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 10_000,
    progress: ProgressCallback | None = None,
    prices: PriceTable | None = None,
) -> PlanReport:
    """Write one outbox row per recipient (unique: re-planning adds only newcomers).

    All or nothing: a template that fails for any recipient raises TemplateError naming the
    variable and how many recipients lack it, and the caller's transaction is rolled back.
    """
    report = _run(
        session,
        campaign=campaign,
        settings=settings,
        now=now,
        write=True,
        batch_size=batch_size,
        progress=progress,
        prices=prices,
    )
    if report.template_problems:
        problems = "; ".join(
            f"{message} ({count:,} of {report.audience:,} recipients)"
            for message, count in by_count(report.template_problems)
        )
        raise TemplateError(f"nothing was planned: {problems}", field="template")
    campaign.planned_at = now
    return report
