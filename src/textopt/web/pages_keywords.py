"""Keywords the workspace answers automatically (HORAIRES): list, add, edit, switch off,
delete. Reading needs `read`, changing needs `write`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from textopt.accounts.models import Scope
from textopt.db.base import utcnow
from textopt.errors import TextoptError
from textopt.http.deps import DbSession
from textopt.http.params import RowId
from textopt.inbound import workspace_keywords as service
from textopt.inbound.models import WorkspaceKeyword
from textopt.web.auth import CsrfField, WebViewer, check_form
from textopt.web.error_sentences import translate_message
from textopt.web.i18n import request_translator
from textopt.web.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Answer = Annotated[str, Form(max_length=2_000)]
_NOTICES = ("created", "changed", "switched_on", "switched_off", "deleted")


def _page(
    request: Request,
    session: DbSession,
    *,
    error: str | None = None,
    editing: WorkspaceKeyword | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "keywords.html",
        status_code=422 if error else 200,
        section="Keywords",
        keywords=service.list_keywords(session),
        languages=service.LANGUAGES,
        editing=editing,
        form=form or {},
        error=error,
        # base.html shows it as given: worded here, in the viewer's language
        notice=request_translator(request)(f"keywords.{notice}") if notice in _NOTICES else None,
        interval_minutes=int(service.ANSWER_INTERVAL.total_seconds() // 60),
    )


def _texts(fr: str, en: str, es: str, de: str) -> dict[str, str]:
    given = {"fr": fr, "en": en, "es": es, "de": de}
    return {language: text for language, text in given.items() if text.strip()}


@router.get("/app/keywords")
def keywords_page(
    request: Request, viewer: WebViewer, session: DbSession, notice: str | None = None
) -> HTMLResponse:
    """The workspace's keywords and the form to add one."""
    return _page(request, session, notice=notice)


@router.post("/app/keywords")
def add_keyword(
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    word: Annotated[str, Form(max_length=64)],
    fr: Answer = "",
    en: Answer = "",
    es: Answer = "",
    de: Answer = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Define a keyword; a reserved word or a missing answer is shown on the form."""
    check_form(viewer, csrf_token, Scope.WRITE)
    try:
        with session.begin_nested():
            service.create_keyword(
                session, actor=viewer.actor, word=word, texts=_texts(fr, en, es, de), now=utcnow()
            )
    except TextoptError as exc:
        error = translate_message(request_translator(request), exc.message)
        form = {"word": word, "fr": fr, "en": en, "es": es, "de": de}
        return _page(request, session, error=error, form=form)
    return RedirectResponse("/app/keywords?notice=created", status_code=303)


@router.get("/app/keywords/{keyword_id}")
def edit_page(
    keyword_id: RowId, request: Request, viewer: WebViewer, session: DbSession
) -> HTMLResponse:
    """A keyword's form, filled in."""
    keyword = service.get_keyword_or_raise(session, word_or_id=keyword_id)
    form = {"word": keyword.label, **keyword.texts}
    return _page(request, session, editing=keyword, form=form)


@router.post("/app/keywords/{keyword_id}")
def edit_keyword(
    keyword_id: RowId,
    request: Request,
    viewer: WebViewer,
    session: DbSession,
    word: Annotated[str, Form(max_length=64)],
    fr: Answer = "",
    en: Answer = "",
    es: Answer = "",
    de: Answer = "",
    csrf_token: CsrfField = None,
) -> Response:
    """Save a keyword's word and answers (an emptied answer is removed)."""
    check_form(viewer, csrf_token, Scope.WRITE)
    keyword = service.get_keyword_or_raise(session, word_or_id=keyword_id)
    try:
        with session.begin_nested():
            service.update_keyword(
                session,
                actor=viewer.actor,
                word_or_id=keyword.id,
                word=word,
                texts=_texts(fr, en, es, de),
                now=utcnow(),
            )
    except TextoptError as exc:
        session.refresh(keyword)
        error = translate_message(request_translator(request), exc.message)
        form = {"word": word, "fr": fr, "en": en, "es": es, "de": de}
        return _page(request, session, error=error, editing=keyword, form=form)
    return RedirectResponse("/app/keywords?notice=changed", status_code=303)


@router.post("/app/keywords/{keyword_id}/switch")
def switch_keyword(
    keyword_id: RowId,
    viewer: WebViewer,
    session: DbSession,
    on: Annotated[bool, Form()],
    csrf_token: CsrfField = None,
) -> Response:
    """Switch a keyword on (answered) or off (kept unanswered)."""
    check_form(viewer, csrf_token, Scope.WRITE)
    service.update_keyword(
        session, actor=viewer.actor, word_or_id=keyword_id, enabled=on, now=utcnow()
    )
    notice = "switched_on" if on else "switched_off"
    return RedirectResponse(f"/app/keywords?notice={notice}", status_code=303)


@router.post("/app/keywords/{keyword_id}/delete")
def delete_keyword(
    keyword_id: RowId, viewer: WebViewer, session: DbSession, csrf_token: CsrfField = None
) -> Response:
    """Delete a keyword."""
    check_form(viewer, csrf_token, Scope.WRITE)
    service.delete_keyword(session, actor=viewer.actor, word_or_id=keyword_id)
    return RedirectResponse("/app/keywords?notice=deleted", status_code=303)
