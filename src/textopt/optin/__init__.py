"""Public opt-in: hosted signup lists and double opt-in by a confirmation SMS."""
