"""Where things are in a vpopmail home: ``users/assign`` domains, domain directories, re-rooting.

Domains come from qmail's ``users/assign``, where vpopmail writes one line per domain::

    +example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::
    +mail.example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::   <- alias domain
    .

A line whose second field differs from its key, or whose directory belongs to another domain, is an
alias of the real domain. Domain directories may be hashed into one-character subdirectories
(``domains/0/example.net``); without ``assign`` they are found by listing ``domains/``.

A home being read is often a copy of ``~vpopmail`` taken from the server. Absolute paths in
``assign`` and in vpasswd ``dir`` fields name the original home (such as ``/home/vpopmail``);
:class:`Rerooter` maps them under the copy. The original home is the part of the ``assign``
directories before ``/domains/`` (the most common one), or per path the part before the last
``/domains/`` or ``/users/``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "VPASSWD",
    "VPASSWD_CDB",
    "AssignLine",
    "Domain",
    "Rerooter",
    "group_domains",
    "guess_home",
    "is_domain_dir",
    "list_domain_dirs",
    "parse_assign_line",
]

VPASSWD = "vpasswd"
VPASSWD_CDB = "vpasswd.cdb"
_HASH_DIR_DEPTH = 3  # vpopmail's MAX_DIR_LEVELS


@dataclass(frozen=True, slots=True)
class AssignLine:
    """One vpopmail line of ``users/assign``: ``+NAME-:REAL:UID:GID:DIR:-::``."""

    name: str
    """The domain mail is addressed to (lower-cased key without ``+`` and ``-``)."""
    real: str
    """The domain whose accounts serve it: equal to ``name`` except for alias domains."""
    dir: str
    """The domain directory as written (an absolute path on the original server)."""
    lineno: int


def parse_assign_line(line: str, lineno: int = 0) -> AssignLine | None:
    """The domain a ``+`` line declares; None for other lines (``=user`` lines, ``.``).

    Raises ``ValueError`` for a ``+`` line that is not ``+NAME-:REAL:UID:GID:DIR...``.
    """
    if not line.startswith("+"):
        return None
    fields = line.split(":")
    if len(fields) < 5:
        raise ValueError(f"{len(fields)} fields, vpopmail assign lines have at least 5")
    key = fields[0]
    if len(key) < 3 or not key.endswith("-"):
        raise ValueError("key is not of the form +DOMAIN-")
    if not fields[1] or not fields[4]:
        raise ValueError("empty domain or directory field")
    return AssignLine(name=key[1:-1].lower(), real=fields[1].lower(), dir=fields[4], lineno=lineno)


@dataclass(slots=True)
class Domain:
    """A real domain to read once: where its files are and which alias domains share them."""

    name: str
    local_dir: Path
    """The directory to read, under the home given by the user."""
    original_dir: str | None
    """The directory as named in ``assign`` on the original server; None when found by listing."""
    where: str
    """Where it was declared, for Skipped records (``assign:line`` or a directory)."""
    aliases: list[str] = field(default_factory=list)


def guess_home(path: str) -> str | None:
    """The original vpopmail home in an absolute path: the part before the last ``/domains/``,
    else before the last ``/users/``; None when there is neither."""
    for marker in ("/domains/", "/users/"):
        index = path.rfind(marker)
        if index >= 0:
            return path[:index] or "/"
    return None


def _relative_under(path: str, prefix: str) -> str | None:
    """``path`` relative to ``prefix`` (both normalised absolute paths), or None if outside."""
    if path == prefix:
        return ""
    head = prefix.rstrip("/") + "/"
    return path[len(head) :] if path.startswith(head) else None


class Rerooter:
    """Maps paths written on the original server to paths under the home being read."""

    def __init__(self, home: Path, original: str | None, *, enabled: bool = True) -> None:
        self.home = home
        self.original = posixpath.normpath(original) if original else None
        """The original home (``/home/vpopmail``), when known."""
        self.enabled = enabled

    def map(self, path: str) -> Path | None:
        """The local path for ``path``; None for a relative path that climbs out of the home."""
        norm = posixpath.normpath(path)
        if not path.startswith("/"):
            return None if norm == ".." or norm.startswith("../") else self.home / norm
        if not self.enabled:
            return Path(norm)
        rest = _relative_under(norm, self.original) if self.original else None
        if rest is None:
            guessed = guess_home(norm)
            rest = _relative_under(norm, guessed) if guessed else None
        if rest is None:
            return Path(norm)  # outside any vpopmail home: used as written
        return self.home / rest if rest else self.home

    def map_under(self, path: str, original_dir: str | None, local_dir: Path) -> Path | None:
        """Like :meth:`map`, but a path inside ``original_dir`` lands inside ``local_dir``."""
        if original_dir and path.startswith("/"):
            rest = _relative_under(posixpath.normpath(path), posixpath.normpath(original_dir))
            if rest is not None and self.enabled:
                return local_dir / rest if rest else local_dir
        return self.map(path)


def group_domains(lines: Iterable[AssignLine], rerooter: Rerooter, where: str) -> list[Domain]:
    """Real domains in first-seen order, each with its aliases.

    An explicit alias (``+alias-:real:...``) belongs to ``real``. Among lines naming themselves,
    those sharing a directory are one domain: the owner is the one whose directory is named after
    it, else the first; the others are aliases.
    """
    lines = list(lines)
    owners: dict[str, AssignLine] = {}
    for line in lines:
        if line.name != line.real:
            continue
        key = posixpath.normpath(line.dir)
        current = owners.get(key)
        named_after = posixpath.basename(key) == line.name
        if current is None or (named_after and posixpath.basename(key) != current.name):
            owners[key] = line
    own_line = {line.name: line for line in owners.values()}
    domains: dict[str, Domain] = {}
    for line in lines:
        if line.name == line.real:
            real = owners[posixpath.normpath(line.dir)].name
        else:
            real = line.real
        domain = domains.get(real)
        if domain is None:
            declared = own_line.get(real, line)
            local = rerooter.map(declared.dir) or rerooter.home / "domains" / real
            domain = Domain(real, local, declared.dir, f"{where}:{declared.lineno}")
            domains[real] = domain
        if line.name != real and line.name not in domain.aliases:
            domain.aliases.append(line.name)
    return list(domains.values())


def is_domain_dir(path: Path) -> bool:
    """True when ``path`` holds a ``vpasswd`` or ``vpasswd.cdb``."""
    return (path / VPASSWD).exists() or (path / VPASSWD_CDB).exists()


def list_domain_dirs(domains_dir: Path, depth: int = 0) -> Iterator[Domain]:
    """Domain directories found by listing ``domains/``, descending into one-character hash dirs."""
    for entry in sorted(domains_dir.iterdir()):
        if not entry.is_dir():
            continue
        if is_domain_dir(entry) or (len(entry.name) > 1 and "." in entry.name):
            yield Domain(entry.name.lower(), entry, None, str(entry))
        elif len(entry.name) == 1 and depth < _HASH_DIR_DEPTH:
            yield from list_domain_dirs(entry, depth + 1)
