"""vpopmail's per-domain password file: the ``vpasswd`` line, gid flag bits, the ``lastauth`` file.

A ``vpasswd`` line is ``name:crypted:uid:gid:gecos:dir:quota[:cleartext]`` (vpopmail ``vgetent()``
wants at least six ``:``). The eighth field, written when vpopmail is built with
``--enable-clear-passwd`` (the default up to 5.4.33), is the cleartext password and runs to the end
of the line, ``:`` included. ``gid`` is not a Unix group but a set of per-user flag bits
(``vpopmail.h``). ``uid`` is 1 (POP) or 2 (APOP). ``vpasswd.cdb`` holds the same lines, keyed by
the user name.

With auth logging (on by default) vpopmail writes the client IP of each successful login, with no
newline, into ``<dir>/lastauth``; the file's mtime is the time of that login. ``vadduser`` writes
``0.0.0.0`` at creation, so ``0.0.0.0`` means "never logged in" (the mtime is then the creation
time).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from authaudit.accounts.interface import display_text, open_regular
from authaudit.model import Account
from authaudit.redact import Secret, SecretKind

__all__ = [
    "GID_FLAGS",
    "LASTAUTH_FILE",
    "NEVER_LOGGED_IN_IP",
    "UNKNOWN_LASTAUTH",
    "LastAuth",
    "VpasswdEntry",
    "gid_flag_names",
    "parse_vpasswd_line",
    "read_lastauth",
    "vpasswd_account",
]

GID_FLAGS: tuple[tuple[int, str], ...] = (
    (0x01, "NO_PASSWD_CHNG"),
    (0x02, "NO_POP"),
    (0x04, "NO_WEBMAIL"),
    (0x08, "NO_IMAP"),
    (0x10, "BOUNCE_MAIL"),
    (0x20, "NO_RELAY"),
    (0x40, "NO_DIALUP"),
    (0x80, "V_USER0"),
    (0x100, "V_USER1"),
    (0x200, "V_USER2"),
    (0x400, "V_USER3"),
    (0x800, "NO_SMTP"),
    (0x1000, "QA_ADMIN"),
    (0x2000, "V_OVERRIDE"),
    (0x4000, "NO_SPAMASSASSIN"),
    (0x8000, "DELETE_SPAM"),
    (0x10000, "SA_ADMIN"),
    (0x20000, "SA_EXPERT"),
    (0x40000, "NO_MAILDROP"),
)
"""vpopmail's per-user flag bits (``vpopmail.h`` "gid flags"), lowest bit first."""

LASTAUTH_FILE = "lastauth"
NEVER_LOGGED_IN_IP = "0.0.0.0"  # noqa: S104 - vpopmail's NULL_REMOTE_IP marker, not a bind address
"""What ``vadduser`` writes into ``lastauth`` when it creates the account."""

_MAX_GID_DIGITS = 10  # a 32-bit value; longer digit strings are garbage, not flags
_MAX_LASTAUTH = 256


def gid_flag_names(gid: int) -> tuple[str, ...]:
    """Names of the vpopmail flag bits set in ``gid``; unknown bits are ignored."""
    return tuple(name for bit, name in GID_FLAGS if gid & bit)


@dataclass(frozen=True, slots=True)
class VpasswdEntry:
    """The fields of one ``vpasswd`` line, as text, before any interpretation."""

    name: str
    crypted: str
    uid: str
    gid: int
    """Flag bits, read like C ``atoi()`` (leading digits; 0 when there are none)."""
    gid_numeric: bool
    """False when the gid field was not a plain decimal number (it was read as vpopmail would)."""
    gecos: str
    dir: str
    quota: str
    clear: str | None
    """Field 8, or None when the line has only seven fields."""


def parse_vpasswd_line(line: str) -> VpasswdEntry:
    """Split one ``vpasswd`` line (without its newline); raises ``ValueError`` if it is not one."""
    fields = line.split(":", 7)
    if len(fields) < 7:
        raise ValueError(f"{len(fields) - 1} ':' separators, vpasswd lines have at least 6")
    name, crypted, uid, gid_text, gecos, home, quota = fields[:7]
    if not name:
        raise ValueError("empty user name")
    gid, numeric = _atoi(gid_text)
    return VpasswdEntry(
        name=name,
        crypted=crypted,
        uid=uid,
        gid=gid,
        gid_numeric=numeric,
        gecos=gecos,
        dir=home,
        quota=quota,
        clear=fields[7] if len(fields) == 8 else None,
    )


def _atoi(text: str) -> tuple[int, bool]:
    """C ``atoi()`` limited to non-negative values: leading blanks, then decimal digits."""
    stripped = text.lstrip(" \t")
    digits = ""
    for char in stripped:
        if not ("0" <= char <= "9"):
            break
        digits += char
    if not digits or len(digits) > _MAX_GID_DIGITS:
        return 0, False
    return int(digits), digits == text


@dataclass(frozen=True, slots=True)
class LastAuth:
    """What a ``lastauth`` file says about the last successful login."""

    ip: str | None
    at: datetime | None
    """The file's mtime (UTC), when it records a login."""
    never: bool = False
    """The file holds ``0.0.0.0``: the account was created and has never logged in."""
    odd_ip: bool = False
    """The file holds something that is not an IP address (kept in ``ip`` as found)."""


UNKNOWN_LASTAUTH = LastAuth(ip=None, at=None)
"""No ``lastauth`` file (auth logging off, SQL backend, or a copy without user dirs)."""


def read_lastauth(user_dir: Path) -> LastAuth:
    """Read ``<user_dir>/lastauth``; a missing file is :data:`UNKNOWN_LASTAUTH`.

    Raises ``OSError`` when the file exists but cannot be read (a directory, a FIFO, no
    permission).
    """
    try:
        stream = open_regular(user_dir / LASTAUTH_FILE)
    except (FileNotFoundError, NotADirectoryError):
        return UNKNOWN_LASTAUTH
    with stream:
        mtime = os.fstat(stream.fileno()).st_mtime
        content = stream.read(_MAX_LASTAUTH)
    text = content.split(b"\n", 1)[0].decode("ascii", "backslashreplace").strip()
    if text == NEVER_LOGGED_IN_IP:
        return LastAuth(ip=None, at=None, never=True)
    at = datetime.fromtimestamp(mtime, tz=UTC)
    if not text:
        return LastAuth(ip=None, at=at)
    try:
        return LastAuth(ip=str(ipaddress.ip_address(text)), at=at)
    except ValueError:
        return LastAuth(ip=text, at=at, odd_ip=True)


def vpasswd_account(
    entry: VpasswdEntry,
    *,
    source: str,
    store: str,
    location: str,
    domain: str | None,
    lastauth: LastAuth = UNKNOWN_LASTAUTH,
    extra_flags: tuple[str, ...] = (),
) -> Account:
    """The :class:`Account` for one vpasswd entry of ``domain`` (None: the ``users/`` default).

    Flags: the gid bit names, then ``empty-password`` (an empty crypted field: vchkpw refuses the
    login, unless vpopmail was built with ``--enable-learn-passwords``, where the first password
    anyone presents becomes the password), ``gid-not-numeric``, ``never-logged-in``,
    ``lastauth-not-an-ip``, then ``extra_flags``.
    """
    flags = list(gid_flag_names(entry.gid))
    if not entry.crypted:
        flags.append("empty-password")
    if not entry.gid_numeric:
        flags.append("gid-not-numeric")
    if lastauth.never:
        flags.append("never-logged-in")
    if lastauth.odd_ip:
        flags.append("lastauth-not-an-ip")
    flags.extend(extra_flags)
    name = display_text(entry.name)
    return Account(
        source=source,
        store=store,
        location=location,
        address=f"{name}@{domain}" if domain else name,
        username=name,
        domain=domain,
        password_hash=Secret(entry.crypted, SecretKind.HASH) if entry.crypted else None,
        cleartext=Secret(entry.clear, SecretKind.CLEARTEXT) if entry.clear else None,
        gecos=display_text(entry.gecos),
        flags=tuple(flags),
        home=display_text(entry.dir) or None,
        quota=display_text(entry.quota) or None,
        last_auth_ip=display_text(lastauth.ip) if lastauth.ip is not None else None,
        last_auth_at=lastauth.at,
    )
