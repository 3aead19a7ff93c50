"""Campaigns: audiences, preview, planning into the outbox, lifecycle."""
