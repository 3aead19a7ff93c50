"""Benchmark `policy.decide()` over a realistic mix of recipients; prints decisions per second.

    .venv/bin/python bench/policy.py [--count 200000] [--seed 7]

The mix: mostly French numbers (some in Alsace-Moselle and overseas), US numbers in several
states including Florida, multi-zone numbers (Idaho, Australia, Spain), the other packs, a
share without consent, suppressed or transactional, and a share with recent sends. Instants
spread over a week so that SEND, DEFER and BLOCK all occur. Facts are built before timing:
the figure is for `decide()` alone, as planning calls it once per recipient.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections import Counter

from textopt.contacts.phones import parse_phone
from textopt.policy import ContactFacts, MessageFacts, SendRecord, WorkspacePolicy, decide
from textopt.vocab import Channel, Purpose

# (weight, number, region)
RECIPIENTS = [
    (40, "+33612345678", None),
    (6, "+33612345678", "67"),
    (3, "+33612345678", "57"),
    (3, "+262692123456", None),
    (2, "+590690123456", None),
    (6, "+12125550123", None),
    (4, "+13055550123", None),
    (2, "+14055550123", None),
    (2, "+14105550123", None),
    (2, "+12085550123", None),
    (2, "+14165550123", None),
    (5, "+447400123456", None),
    (5, "+4915112345678", None),
    (5, "+34612345678", None),
    (4, "+32470123456", None),
    (2, "+61412345678", None),
    (2, "+819012345678", None),
]
START = dt.datetime(2026, 6, 8, tzinfo=dt.UTC)  # a Monday


def build(
    count: int, seed: int
) -> list[tuple[ContactFacts, MessageFacts, dt.datetime, list[SendRecord]]]:
    """`count` decision inputs drawn from the mix."""
    rng = random.Random(seed)
    parsed = {number: parse_phone(number) for _, number, _ in RECIPIENTS}
    weights = [w for w, _, _ in RECIPIENTS]
    marketing = MessageFacts(channel=Channel.SMS, purpose=Purpose.MARKETING, sender_id="36111")
    expiring = MessageFacts(expires_at=START + dt.timedelta(days=2))
    transactional = MessageFacts(purpose=Purpose.TRANSACTIONAL)
    inputs = []
    for _ in range(count):
        _, number, region = rng.choices(RECIPIENTS, weights)[0]
        info = parsed[number]
        roll = rng.random()
        consent = "granted" if roll < 0.85 else ("revoked" if roll < 0.9 else None)
        facts = ContactFacts(
            e164=info.e164,
            country=info.country,
            region=region,
            timezones=info.timezones,
            consents={("sms", "marketing"): consent},
            is_customer=rng.random() < 0.3,
            soft_opt_in_eligible=rng.random() < 0.2,
            suppressed=rng.random() < 0.02,
        )
        now = START + dt.timedelta(minutes=rng.randrange(7 * 24 * 60))
        history: list[SendRecord] = []
        if rng.random() < 0.25:
            history = [
                SendRecord(now - dt.timedelta(hours=rng.randrange(1, 24 * 30)))
                for _ in range(rng.randrange(1, 5))
            ]
        kind = rng.random()
        message = transactional if kind < 0.1 else (expiring if kind < 0.3 else marketing)
        inputs.append((facts, message, now, history))
    return inputs


def main() -> None:
    """Run the benchmark and print the rate and the verdict mix."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    inputs = build(args.count, args.seed)
    workspace = WorkspacePolicy()
    verdicts: Counter[str] = Counter()
    started = time.perf_counter()
    for facts, message, now, history in inputs:
        verdicts[decide(facts, message, now, history, workspace).verdict.value] += 1
    elapsed = time.perf_counter() - started
    rate = args.count / elapsed
    mix = ", ".join(f"{k} {v * 100 / args.count:.0f}%" for k, v in sorted(verdicts.items()))
    print(f"{args.count} decisions in {elapsed:.2f} s: {rate:,.0f} decisions/s ({mix})")
    print(f"one million recipients: {1_000_000 / rate:.0f} s")


if __name__ == "__main__":
    main()
