"""Web and opt-in test helpers: a registered consent text and a signup list."""

from __future__ import annotations

from sqlalchemy.orm import Session

from textopt.consent.service import add_consent_text
from textopt.optin.models import SignupList
from textopt.optin.service import create_list

CONSENT_BODY = (
    "J'accepte de recevoir par SMS les offres de Boutique Lumière, au plus 4 par mois. "
    "Je peux me désinscrire à tout moment en répondant STOP."
)


def signup_list(
    session: Session,
    *,
    slug: str = "club",
    version: str = "club-v1",
    countries: list[str] | None = None,
    language: str = "fr",
) -> SignupList:
    """A signup list of Boutique Lumière with its consent text registered."""
    add_consent_text(session, version=version, body=CONSENT_BODY, language=language)
    return create_list(
        session,
        slug=slug,
        name="Le Club Lumière",
        brand="Boutique Lumière",
        consent_text_version=version,
        language=language,
        countries=countries,
    )
