"""GDPR: access, erasure and retention."""
