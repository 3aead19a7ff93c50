"""Conversations: a person's inbound and outbound messages as one thread the team answers."""
