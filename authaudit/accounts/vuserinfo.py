"""Saved output of vpopmail's ``vuserinfo user@domain`` or ``vuserinfo -D domain`` (all fields).

``display_user()`` in ``vuserinfo.c`` prints, per user (with ``-D``, newer versions put a line of
dashes before each one)::

    name:   alice
    passwd: $6$...
    clear passwd: Tr0ub4dor&3            <- printed even when empty
    comment/gecos: Alice Liddell
    uid:    1
    gid:    0
    flags:  0                            <- gid OR domain-wide limits
    gecos: Alice Liddell
    limits: No user limits set.          <- or "limits:" and one indented line per flag
    dir:       /home/vpopmail/domains/example.com/alice
    quota:     NOQUOTA
    usage:     NOQUOTA
    last auth: Mon Nov 16 10:11:12 2026  <- asctime(localtime()): the server's time zone
    last auth ip: 203.0.113.7

A user who never logged in gets ``account created: <asctime>`` and ``last auth: Never logged in``.
The dump does not name the domain of a single user: pass it, or it is taken from the ``dir`` path
(the component after ``domains/``, skipping one-character hash directories).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path, PurePosixPath

from authaudit.accounts.interface import AccountSource, LongLine, display_text, iter_lines, raw_text
from authaudit.accounts.vpasswd import gid_flag_names
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

__all__ = ["VuserinfoSource", "domain_from_dir", "parse_asctime", "parse_vuserinfo"]

_LABELS = frozenset(
    {
        "name", "passwd", "clear passwd", "comment/gecos", "uid", "gid", "flags", "gecos",
        "limits", "dir", "quota", "usage", "account created", "last auth", "last auth ip",
    }
)  # fmt: skip
_SECRET_LABELS = frozenset({"passwd", "clear passwd"})
"""Printed as ``label: %s``: exactly one space, and the rest of the line is the value."""
_IGNORED = re.compile(r"^(version: |\s)")
_SEPARATOR = re.compile(r"^-{10,}\s*$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ASCTIME = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +([A-Z][a-z]{2}) +(\d{1,2}) "
    r"(\d{2}):(\d{2}):(\d{2}) +(\d{4})$"
)
NEVER_LOGGED_IN = "Never logged in"


def parse_asctime(text: str, tz: tzinfo = UTC) -> datetime:
    """``Mon Nov 16 10:11:12 2026`` (C ``asctime()``, English names) in ``tz``, as UTC.

    Raises ``ValueError`` for anything else.
    """
    match = _ASCTIME.match(text.strip())
    if match is None or match[1] not in _MONTHS:
        raise ValueError("not an asctime() timestamp")
    month = _MONTHS.index(match[1]) + 1
    day, hour, minute, second, year = (int(match[i]) for i in (2, 3, 4, 5, 6))
    return datetime(year, month, day, hour, minute, second, tzinfo=tz).astimezone(UTC)


def domain_from_dir(path: str) -> str | None:
    """The domain directory name in a vpopmail user dir: what follows the last ``domains``
    component, hash directories (one character) skipped, provided a user part follows it."""
    parts = PurePosixPath(path).parts
    if "domains" not in parts:
        return None
    index = len(parts) - 1 - parts[::-1].index("domains")
    rest = list(parts[index + 1 :])
    while rest and len(rest[0]) == 1:
        rest.pop(0)
    return rest[0].lower() if len(rest) >= 2 else None


def _field_value(label: str, value: str) -> str:
    if label in _SECRET_LABELS:
        return value.removeprefix(" ")
    return value.strip()


def parse_vuserinfo(
    lines: Iterable[tuple[int, str]],
    *,
    source: str,
    path: str,
    domain: str | None = None,
    tz: tzinfo = UTC,
) -> Iterator[Account | Skipped]:
    """Accounts from numbered dump lines (without newlines); odd lines become Skipped records."""
    record: dict[str, tuple[int, str]] = {}

    def skip(lineno: int, reason: str) -> Skipped:
        return Skipped(source=source, where=f"{path}:{lineno}", reason=reason)

    def flush() -> Iterator[Account | Skipped]:
        if record:
            yield from _record_account(record, source=source, path=path, domain=domain, tz=tz)
            record.clear()

    for lineno, text in lines:
        if not text.strip() or _IGNORED.match(text):
            continue
        if _SEPARATOR.match(text):
            yield from flush()
            continue
        label, sep, value = text.partition(":")
        label = label.strip().lower()
        if not sep or label not in _LABELS:
            yield skip(lineno, "not a vuserinfo field line")
            continue
        if label == "name":
            yield from flush()
        elif label in record:
            yield skip(lineno, f"second '{label}:' in one user record")
            continue
        record[label] = (lineno, _field_value(label, value))
    yield from flush()


def _record_account(
    record: dict[str, tuple[int, str]], *, source: str, path: str, domain: str | None, tz: tzinfo
) -> Iterator[Account | Skipped]:
    first = min(lineno for lineno, _ in record.values())
    name = record.get("name", (first, ""))[1]
    if not name:
        yield Skipped(source=source, where=f"{path}:{first}", reason="user record without a name")
        return
    flags: list[str] = []
    bits_text = record.get("flags", record.get("gid", (first, "0")))[1]
    if bits_text.isdigit() and len(bits_text) <= 10:
        flags.extend(gid_flag_names(int(bits_text)))
    else:
        flags.append("gid-not-numeric")
    crypted = record.get("passwd", (first, ""))[1]
    if not crypted:
        flags.append("empty-password")
    clear = record.get("clear passwd", (first, ""))[1]
    home = record.get("dir", (first, ""))[1]
    last_ip: str | None = None
    last_at: datetime | None = None
    if "last auth" in record:
        lineno, when = record["last auth"]
        if when == NEVER_LOGGED_IN:
            flags.append("never-logged-in")
        else:
            try:
                last_at = parse_asctime(when, tz)
            except (ValueError, OverflowError):
                yield Skipped(
                    source=source, where=f"{path}:{lineno}", reason="last auth time not understood"
                )
    if "last auth ip" in record and "never-logged-in" not in flags:
        last_ip = record["last auth ip"][1] or None
        if last_ip is not None:
            try:
                last_ip = str(ipaddress.ip_address(last_ip))
            except ValueError:
                flags.append("lastauth-not-an-ip")
    dom = domain or domain_from_dir(home)
    user = display_text(name)
    yield Account(
        source=source,
        store=VuserinfoSource.store,
        location=f"{path}:{record['name'][0]}",
        address=f"{user}@{dom}" if dom else user,
        username=user,
        domain=dom,
        password_hash=Secret(crypted, SecretKind.HASH) if crypted else None,
        cleartext=Secret(clear, SecretKind.CLEARTEXT) if clear else None,
        gecos=display_text(record.get("comment/gecos", record.get("gecos", (first, "")))[1]),
        flags=tuple(flags),
        home=display_text(home) or None,
        quota=display_text(record.get("quota", (first, ""))[1]) or None,
        last_auth_ip=display_text(last_ip) if last_ip else None,
        last_auth_at=last_at,
    )


class VuserinfoSource(AccountSource):
    """A text file holding ``vuserinfo`` output for one user or a whole domain (``-D``).

    ``domain`` names the domain when the dump does not show it; ``tz`` is the server's time zone,
    in which ``vuserinfo`` printed the last-auth times.
    """

    store = "vuserinfo"

    def __init__(self, path: Path, *, domain: str | None = None, tz: tzinfo = UTC) -> None:
        self.path = Path(path)
        self.domain = domain.lower() if domain else None
        self.tz = tz

    @property
    def name(self) -> str:
        return str(self.path)

    def collect(self) -> Iterator[Account | Skipped]:
        try:
            stream = self.path.open("rb")
        except OSError as exc:
            raise SourceError(self.name, f"cannot open: {exc.strerror or exc}") from exc
        long_lines: list[Skipped] = []

        def numbered() -> Iterator[tuple[int, str]]:
            for lineno, raw in iter_lines(stream):
                if isinstance(raw, LongLine):
                    reason = f"line of {raw.length} bytes is too long"
                    long_lines.append(
                        Skipped(source=self.name, where=f"{self.path}:{lineno}", reason=reason)
                    )
                else:
                    yield lineno, raw_text(raw)

        with stream:
            try:
                yield from parse_vuserinfo(
                    numbered(),
                    source=self.name,
                    path=str(self.path),
                    domain=self.domain,
                    tz=self.tz,
                )
            except OSError as exc:
                long_lines.append(
                    Skipped(
                        source=self.name,
                        where=str(self.path),
                        reason=f"read error: {exc.strerror or exc}",
                    )
                )
        yield from long_lines
