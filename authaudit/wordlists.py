"""Loading candidate-password lists: the bundled ones and the user's ``--wordlist`` files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from authaudit.errors import SourceError

__all__ = ["BUNDLED_DIR", "bundled_wordlists", "load_wordlists"]

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "wordlists"
"""The ``wordlists/`` folder beside the package (present in a checkout or an editable install)."""

_COMMENT = "#!comment:"


def bundled_wordlists() -> list[Path]:
    """The shipped lists, in a fixed order; empty when the package was installed without them."""
    if not BUNDLED_DIR.is_dir():
        return []
    return sorted(p for p in BUNDLED_DIR.iterdir() if p.suffix in {".lst", ".txt"})


def load_wordlists(paths: Iterable[Path]) -> list[str]:
    """Every distinct candidate of the files, in file order then line order.

    Lines are decoded as UTF-8 (undecodable bytes kept as surrogate escapes so that they still
    hash to the original bytes); trailing CR/LF are removed, other whitespace is kept because it
    can be part of a password. John's ``#!comment:`` lines are skipped.
    """
    seen: dict[str, None] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(str(path), f"cannot read wordlist: {exc.strerror or exc}") from exc
        for raw in data.split(b"\n"):
            line = raw.rstrip(b"\r").decode("utf-8", "surrogateescape")
            if line and not line.startswith(_COMMENT):
                seen.setdefault(line, None)
    return list(seen)
