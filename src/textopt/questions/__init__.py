"""Questions a message asks (an appointment to confirm or cancel) and their answers."""
