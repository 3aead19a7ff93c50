"""Consent: the append-only, hash-chained ledger, consent texts and the suppression list."""
