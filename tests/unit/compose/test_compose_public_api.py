"""The package re-exports a sorted public API that really exists."""

from __future__ import annotations

import textopt.compose as compose


def _isort_style(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_importable() -> None:
    assert compose.__all__ == sorted(compose.__all__, key=_isort_style)
    for name in compose.__all__:
        assert getattr(compose, name) is not None


def test_compose_is_pure() -> None:
    # compose/ must not touch the database: importing it must not import SQLAlchemy models.
    import subprocess
    import sys

    code = "import sys, textopt.compose; print('textopt.db' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
