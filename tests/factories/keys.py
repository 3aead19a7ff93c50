"""The test workspace's secret key and region, and what the domain is given from them."""

from __future__ import annotations

from textopt.config import Settings
from textopt.consent.suppression import address_digester
from textopt.dispatch.feedback import FeedbackRules, feedback_rules

__all__ = ["TEST_DIGEST", "TEST_KEY", "TEST_REGION", "TEST_SECRET", "feedback_for"]

TEST_SECRET = "test-secret-key-not-for-production"
#: The region national numbers are read in (the `settings` fixture's `default_region`).
TEST_REGION = "FR"
TEST_KEY = TEST_SECRET.encode()
#: The suppression list's keyed digest under the test key (the `settings` fixture's).
TEST_DIGEST = address_digester(TEST_KEY)


def feedback_for(settings: Settings) -> FeedbackRules:
    """What provider feedback the dispatcher would apply under these settings."""
    return feedback_rules(settings, digest=address_digester(settings.resolved_secret_key()))
