"""Contacts: people, their numbers and addresses, import and export."""
