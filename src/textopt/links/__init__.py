"""Tracked links: per-recipient short codes on the workspace's link domain, and their clicks."""
