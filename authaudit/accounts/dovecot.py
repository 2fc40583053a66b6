"""Dovecot passwd-file: ``user:password:uid:gid:gecos:home:shell:extra_fields``.

Only the user is required (Dovecot's ``db-passwd-file.c`` accepts a line holding just a user, and
any trailing fields may be missing). Lines that are empty or start with ``#`` or ``:`` are ignored
by Dovecot. Every ``:`` splits, so a password with ``:`` must be encoded (``{PLAIN.b64}``).
Fields after the seventh are joined again with ``:`` and split on spaces into extra fields
(``nopassword``, ``allow_nets=...``, ``userdb_quota_rule=*:storage=1G`` ...); an empty eighth field
is the old format, where the rest is the mail location.

The password is stored as written, ``{SCHEME}`` prefix included. A value without a prefix uses the
passdb's default scheme (``CRYPT`` for passwd-file), kept in
:attr:`DovecotPasswdSource.default_scheme` for the scheme identification, which is not done here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from authaudit.accounts.interface import AccountSource, LongLine, display_text, iter_lines, raw_text
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

__all__ = [
    "DovecotPasswdSource",
    "PasswdFileEntry",
    "parse_passwd_file_line",
    "passwd_file_account",
]


@dataclass(frozen=True, slots=True)
class PasswdFileEntry:
    """The fields of one passwd-file line; absent trailing fields are empty strings."""

    user: str
    password: str | None
    """None when the line has no password field at all (only a user)."""
    uid: str = ""
    gid: str = ""
    gecos: str = ""
    home: str = ""
    shell: str = ""
    extra: tuple[str, ...] = ()
    """Extra fields, ``key`` or ``key=value``, in file order."""


def parse_passwd_file_line(line: str) -> PasswdFileEntry | None:
    """One line (without newline); None for lines Dovecot ignores (empty, ``#``) and blank ones.

    Raises ``ValueError`` for a line starting with ``:`` (no user name; Dovecot skips it too).
    """
    if not line.strip() or line.startswith("#"):
        return None
    if line.startswith(":"):
        raise ValueError("no user name (Dovecot ignores this line)")
    fields = line.split(":")
    if len(fields) == 1:
        return PasswdFileEntry(user=fields[0], password=None)
    padded = fields[:7] + [""] * (7 - min(len(fields), 7))
    extra: tuple[str, ...] = ()
    if len(fields) > 7:
        if fields[7] == "" and len(fields) > 8:
            extra = ("userdb_mail=" + ":".join(fields[8:]),)
        else:
            extra = tuple(part for part in ":".join(fields[7:]).split(" ") if part)
    return PasswdFileEntry(
        user=padded[0],
        password=padded[1],
        uid=padded[2],
        gid=padded[3],
        gecos=padded[4],
        home=padded[5],
        shell=padded[6],
        extra=extra,
    )


def passwd_file_account(
    entry: PasswdFileEntry, *, source: str, location: str, domain: str | None = None
) -> Account:
    """The :class:`Account` for one entry; ``domain`` applies to users written without ``@``.

    Flags: ``no-password-field``, ``empty-password`` (Dovecot refuses an empty CRYPT value but a
    ``{PLAIN}`` default scheme would accept it), then the names of the passdb extra fields
    (``nopassword``, ``noauthenticate``, ``nologin``, ``allow_nets`` ...; values are left out, as
    some are secrets, e.g. ``pass=`` for proxying). ``userdb_quota_rule`` becomes the quota and
    ``userdb_home`` the home when the home field is empty.
    """
    user = display_text(entry.user)
    local, at, after = user.partition("@")
    dom = after.lower() if at else domain
    flags: list[str] = []
    if entry.password is None:
        flags.append("no-password-field")
    elif entry.password == "":
        flags.append("empty-password")
    quota: str | None = None
    home = entry.home
    for item in entry.extra:
        key, _, value = item.partition("=")  # Dovecot compares field names case-sensitively
        if key == "userdb_quota_rule":
            quota = value
        elif key == "userdb_home" and not home:
            home = value
        elif not key.startswith("userdb_") and key and key not in flags:
            flags.append(display_text(key))
    return Account(
        source=source,
        store=DovecotPasswdSource.store,
        location=location,
        address=f"{local}@{dom}" if dom else local,
        username=local,
        domain=dom or None,
        password_hash=Secret(entry.password, SecretKind.HASH) if entry.password else None,
        gecos=display_text(entry.gecos),
        flags=tuple(flags),
        home=display_text(home) or None,
        quota=display_text(quota) if quota else None,
    )


class DovecotPasswdSource(AccountSource):
    """A Dovecot passwd-file (``passdb { driver = passwd-file }``).

    ``default_scheme`` is the scheme Dovecot applies to passwords without a ``{SCHEME}`` prefix
    (``CRYPT`` unless the passdb sets ``scheme=``). ``domain`` is the domain of bare user names,
    for per-domain files such as ``/etc/dovecot/passwd.%d``.
    """

    store = "dovecot-passwd"

    def __init__(
        self, path: Path, default_scheme: str = "CRYPT", *, domain: str | None = None
    ) -> None:
        self.path = Path(path)
        self.default_scheme = default_scheme.upper()
        self.domain = domain.lower() if domain else None

    @property
    def name(self) -> str:
        return str(self.path)

    def _skip(self, where: str, reason: str) -> Skipped:
        return Skipped(source=self.name, where=where, reason=reason)

    def collect(self) -> Iterator[Account | Skipped]:
        try:
            stream = self.path.open("rb")
        except OSError as exc:
            raise SourceError(self.name, f"cannot open: {exc.strerror or exc}") from exc
        seen: set[str] = set()
        with stream:
            try:
                for lineno, raw in iter_lines(stream):
                    where = f"{self.path}:{lineno}"
                    if isinstance(raw, LongLine):
                        yield self._skip(where, f"line of {raw.length} bytes is too long")
                        continue
                    try:
                        entry = parse_passwd_file_line(raw_text(raw))
                    except ValueError as exc:
                        yield self._skip(where, str(exc))
                        continue
                    if entry is None:
                        continue
                    if entry.user in seen:
                        yield self._skip(where, "user listed again (Dovecot uses the first line)")
                        continue
                    seen.add(entry.user)
                    yield passwd_file_account(
                        entry, source=self.name, location=where, domain=self.domain
                    )
            except OSError as exc:
                yield self._skip(
                    str(self.path), f"read error, rest of file lost: {exc.strerror or exc}"
                )
