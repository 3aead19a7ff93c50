"""`textopt keywords`: words the workspace answers automatically (HORAIRES)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from textopt.cli.common import console, print_json, session
from textopt.cli.users import cli_actor
from textopt.db.base import utcnow
from textopt.inbound import workspace_keywords as service

app = typer.Typer(
    help="Keywords the workspace answers automatically (e.g. HORAIRES -> the opening hours): "
    "add, list, edit, remove.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]
Word = Annotated[str, typer.Argument(help="The keyword (any case, with or without accents) or id")]
French = Annotated[str | None, typer.Option("--fr", help="The answer in French")]
English = Annotated[str | None, typer.Option("--en", help="The answer in English")]
Spanish = Annotated[str | None, typer.Option("--es", help="The answer in Spanish")]
German = Annotated[str | None, typer.Option("--de", help="The answer in German")]


def _given(**texts: str | None) -> dict[str, str]:
    return {language: text for language, text in texts.items() if text is not None}


def _show(data: dict[str, Any], verb: str) -> None:
    state = "on" if data["enabled"] else "off"
    languages = ", ".join(sorted(data["texts"]))
    console.print(
        f"keyword {data['word']} {verb} ({state}; answers in {languages})",
        markup=False,
        highlight=False,
    )


@app.command("add")
def add(
    word: Annotated[str, typer.Argument(help="One word of letters or digits, e.g. HORAIRES")],
    fr: French = None,
    en: English = None,
    es: Spanish = None,
    de: German = None,
    off: Annotated[bool, typer.Option("--off", help="Define it switched off")] = False,
    as_json: JsonOption = False,
) -> None:
    """Define a keyword and its answer in one or more languages (--fr, --en, --es, --de)."""
    with session() as s:
        keyword = service.create_keyword(
            s,
            actor=cli_actor(),
            word=word,
            texts=_given(fr=fr, en=en, es=es, de=de),
            enabled=not off,
            now=utcnow(),
        )
        data = service.keyword_fields(keyword)
    if as_json:
        print_json(data)
    else:
        _show(data, "added")


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every keyword, its switch and its answers."""
    with session() as s:
        data = [service.keyword_fields(k) for k in service.list_keywords(s)]
    if as_json:
        print_json(data)
        return
    if not data:
        console.print('no keywords yet: textopt keywords add HORAIRES --fr "…" --en "…"')
        return
    table = Table("word", "on", "language", "answer")
    for row in data:
        for i, (language, text) in enumerate(sorted(row["texts"].items())):
            first = i == 0
            table.add_row(
                escape(row["word"]) if first else "",
                ("yes" if row["enabled"] else "no") if first else "",
                language,
                escape(text),
            )
    console.print(table)


@app.command("edit")
def edit(
    word: Word,
    rename: Annotated[str | None, typer.Option("--word", help="A new word")] = None,
    fr: French = None,
    en: English = None,
    es: Spanish = None,
    de: German = None,
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="Remove the answer in this language (fr, en, es, de)"),
    ] = None,
    on: Annotated[
        bool | None, typer.Option("--on/--off", help="Switch the keyword on or off")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a keyword's word, an answer (the others are kept) or its switch."""
    given = _given(fr=fr, en=en, es=es, de=de)
    with session() as s:
        keyword = service.get_keyword_or_raise(s, word_or_id=word)
        texts = None
        if given or drop:
            dropped = {language.strip().lower() for language in drop or []}
            texts = {k: v for k, v in keyword.texts.items() if k not in dropped} | given
        keyword = service.update_keyword(
            s,
            actor=cli_actor(),
            word_or_id=keyword.id,
            word=rename,
            texts=texts,
            enabled=on,
            now=utcnow(),
        )
        data = service.keyword_fields(keyword)
    if as_json:
        print_json(data)
    else:
        _show(data, "changed")


@app.command("remove")
def remove(word: Word, as_json: JsonOption = False) -> None:
    """Delete a keyword (messages that asked for it keep the word they matched)."""
    with session() as s:
        data = service.keyword_fields(service.delete_keyword(s, actor=cli_actor(), word_or_id=word))
    if as_json:
        print_json(data)
    else:
        console.print(f"keyword {data['word']} removed", markup=False, highlight=False)
