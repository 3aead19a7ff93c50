"""Dispatch: the outbox, its state machine, claiming with leases, rate limits and sending."""
