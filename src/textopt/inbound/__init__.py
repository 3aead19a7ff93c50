"""Inbound messages (MO): stored whatever they say; STOP, START, HELP and YES applied."""
