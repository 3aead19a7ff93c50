"""Outbound webhooks: endpoints of the user's own systems, events, signed deliveries."""
