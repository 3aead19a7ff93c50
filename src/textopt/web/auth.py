"""Who is looking at a page: the signed-in user of the session cookie, their role, the CSRF.

A page without a live session redirects to the sign-in page (`LoginRequired`); a form post
must carry the session's CSRF token in its `csrf_token` field (`check_form`), checked by
`http.deps.check_csrf`, the same rule as the REST API's cookie sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from textopt.accounts.models import LoginSession, Scope
from textopt.accounts.service import Actor, user_actor
from textopt.conversations.service import unread_total
from textopt.errors import AuthenticationError
from textopt.http.deps import DbSession, check_csrf, current_login

__all__ = ["LoginRequired", "Viewer", "WebViewer", "check_form", "viewer_of"]


class LoginRequired(Exception):
    """The page needs a signed-in user; the web error handler redirects to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a page, with their scopes and the session's CSRF token.

    Plain values, read once: an error page is rendered after the request's transaction was
    rolled back, when the ORM rows can no longer be read.
    """

    email: str
    role: str
    actor: Actor
    login: LoginSession
    csrf: str  # the token every form of the page echoes
    unread: int = 0  # messages not read in open conversations (the navigation shows it)

    def can(self, scope: str) -> bool:
        """Whether the user's role grants `scope` (read, write, launch, send, gdpr, admin)."""
        return Scope(scope) in self.actor.scopes

    def require(self, scope: Scope) -> None:
        """Raise PermissionDenied unless the role grants `scope`."""
        self.actor.require(scope)


def viewer_of(request: Request, session: Session) -> Viewer:
    """The signed-in viewer of the request, or LoginRequired."""
    try:
        login, user = current_login(session, request)
    except AuthenticationError as exc:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target) from exc
    actor = user_actor(user)
    viewer = Viewer(
        email=user.email,
        role=user.role,
        actor=actor,
        login=login,
        csrf=login.csrf_token,
        unread=unread_total(session) if Scope.INBOX in actor.scopes else 0,
    )
    request.state.viewer = viewer
    return viewer


def _viewer(request: Request, session: DbSession) -> Viewer:
    return viewer_of(request, session)


WebViewer = Annotated[Viewer, Depends(_viewer)]


def check_form(viewer: Viewer, token: str | None, scope: Scope) -> None:
    """A state-changing form: the CSRF token of the session, and the role's permission."""
    check_csrf(viewer.login, token)
    viewer.require(scope)


CsrfField = Annotated[str | None, Form(alias="csrf_token")]
