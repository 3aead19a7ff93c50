"""Web and opt-in test helpers: signing in through the form, a consent text and signup list."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from textopt.consent.service import add_consent_text
from textopt.optin.models import SignupList
from textopt.optin.service import create_list

_LOGIN_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms echo."""
    found = _CSRF.search(page)
    assert found is not None, page[:500]
    return found.group(1)


def sign_in_form(http: Any, email: str, password: str, *, next: str = "/app/") -> Any:
    """Post the sign-in form as a browser does: fetch it (its token and cookie), then post."""
    page = http.get("/app/login")
    found = _LOGIN_TOKEN.search(page.text)
    assert found is not None, page.text
    data = {"email": email, "password": password, "next": next, "form_token": found.group(1)}
    return http.post("/app/login", data=data)


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
