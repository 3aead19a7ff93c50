"""Flows: a trigger and ordered steps, run once per occurrence for a contact."""
