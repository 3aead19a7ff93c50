"""Accounts: users and roles, API keys, sessions, the audit log and request limits."""
