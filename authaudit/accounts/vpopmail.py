"""vpopmail home (file/cdb backend): every account of every domain, with its last login.

Domains are enumerated from ``users/assign`` (or by listing ``domains/``; see
:mod:`authaudit.accounts.vpopmail_layout`, which also re-roots the server's absolute paths under a
copied home). Each real domain is read once, from ``vpasswd``, else ``vpasswd.cdb``; accounts of an
aliased domain carry ``alias:<name>`` flags. Accounts of the default domain live in
``users/vpasswd`` and have no domain. Each user's ``lastauth`` file gives the last login's IP and
time. Everything is opened read-only; nothing in the store is ever written.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from authaudit.accounts.cdb import CdbError, iter_records, read_cdb
from authaudit.accounts.interface import (
    AccountSource,
    LongLine,
    display_text,
    iter_lines,
    open_regular,
    raw_text,
)
from authaudit.accounts.vpasswd import (
    UNKNOWN_LASTAUTH,
    VpasswdEntry,
    parse_vpasswd_line,
    read_lastauth,
    vpasswd_account,
)
from authaudit.accounts.vpopmail_layout import (
    VPASSWD,
    VPASSWD_CDB,
    AssignLine,
    Domain,
    Rerooter,
    group_domains,
    guess_home,
    is_domain_dir,
    list_domain_dirs,
    parse_assign_line,
)
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped

__all__ = ["VpopmailSource"]


class VpopmailSource(AccountSource):
    """A vpopmail home (file/cdb backend): ``users/assign``, ``domains/``, ``users/vpasswd``.

    ``assign`` overrides where ``users/assign`` is (qmail keeps it in ``/var/qmail/users/assign``);
    ``reroot=False`` uses absolute paths as written (reading the live server in place).
    After :meth:`collect`, :attr:`domain_aliases` maps each real domain to its alias domains.
    """

    store = "vpopmail"

    def __init__(self, home: Path, *, assign: Path | None = None, reroot: bool = True) -> None:
        self.home = Path(home)
        self.assign = assign if assign is not None else self.home / "users" / "assign"
        self.reroot = reroot
        self.original_home: str | None = None
        """The home the paths in the store name, as detected (``/home/vpopmail``)."""
        self.domain_aliases: dict[str, tuple[str, ...]] = {}

    @property
    def name(self) -> str:
        return str(self.home)

    def _skip(self, where: object, reason: str, count: int = 1) -> Skipped:
        return Skipped(source=self.name, where=str(where), reason=reason, count=count)

    def collect(self) -> Iterator[Account | Skipped]:
        if not self.home.is_dir():
            reason = "not a directory" if self.home.exists() else "no such directory"
            raise SourceError(self.name, reason)
        notices: list[Skipped] = []
        lines = self._read_assign(notices)
        rerooter = Rerooter(self.home, None, enabled=self.reroot)
        if lines is not None:
            homes = Counter(guess_home(posixpath.normpath(x.dir)) for x in lines)
            homes.pop(None, None)
            self.original_home = homes.most_common(1)[0][0] if homes else None
            rerooter = Rerooter(self.home, self.original_home, enabled=self.reroot)
            domains = group_domains(lines, rerooter, str(self.assign))
        else:
            domains = self._list_domains(notices)
        default_dir = self.home / "users"
        has_default = is_domain_dir(default_dir)
        if lines is None and not domains and not has_default:
            raise SourceError(
                self.name,
                "not a vpopmail home: no readable users/assign, no domains, no users/vpasswd",
            )
        yield from notices
        self.domain_aliases = {d.name: tuple(d.aliases) for d in domains}
        for domain in domains:
            yield from self._read_domain(domain, rerooter)
        if has_default:
            default = Domain("", default_dir, None, str(default_dir))
            yield from self._read_domain(default, rerooter)

    def _read_assign(self, notices: list[Skipped]) -> list[AssignLine] | None:
        """Domain lines of the assign file; None (with a notice) when it cannot be read."""
        try:
            stream = open_regular(self.assign)
        except FileNotFoundError:
            notices.append(self._skip(self.assign, "missing; domains found by listing domains/"))
            return None
        except OSError as exc:
            reason = f"cannot read ({exc.strerror or exc}); domains found by listing domains/"
            notices.append(self._skip(self.assign, reason))
            return None
        lines: list[AssignLine] = []
        ended = False
        after_end = 0
        with stream:
            try:
                for lineno, raw in iter_lines(stream):
                    where = f"{self.assign}:{lineno}"
                    if isinstance(raw, LongLine):
                        notices.append(self._skip(where, f"line of {raw.length} bytes is too long"))
                        continue
                    text = display_text(raw_text(raw))
                    if ended:
                        after_end += bool(text.strip())
                    elif text == ".":
                        ended = True
                    else:
                        try:
                            line = parse_assign_line(text, lineno)
                        except ValueError as exc:
                            notices.append(self._skip(where, f"not a vpopmail domain line: {exc}"))
                            continue
                        if line is not None:
                            lines.append(line)
            except OSError as exc:
                notices.append(self._skip(self.assign, f"read error: {exc.strerror or exc}"))
        if after_end:
            reason = "lines after the '.' end line are ignored, as qmail does"
            notices.append(self._skip(self.assign, reason, after_end))
        if not ended:
            notices.append(
                self._skip(self.assign, "no '.' end line (qmail-newu refuses such a file)")
            )
        return lines

    def _list_domains(self, notices: list[Skipped]) -> list[Domain]:
        domains_dir = self.home / "domains"
        try:
            return list(list_domain_dirs(domains_dir))
        except FileNotFoundError:
            return []
        except OSError as exc:
            notices.append(self._skip(domains_dir, f"cannot list: {exc.strerror or exc}"))
            return []

    def _read_domain(self, domain: Domain, rerooter: Rerooter) -> Iterator[Account | Skipped]:
        """Accounts of one domain from ``vpasswd``, else from ``vpasswd.cdb``."""
        local = domain.local_dir
        label = domain.name or "default domain (users/)"
        try:
            present = local.is_dir()
        except OSError:
            present = False
        if not present:
            yield self._skip(domain.where, f"{label}: directory {local} not found")
            return
        vpasswd = local / VPASSWD
        try:
            stream = open_regular(vpasswd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            yield self._skip(vpasswd, f"cannot read: {exc.strerror or exc}")
        else:
            with stream:
                yield from self._read_vpasswd(stream, vpasswd, domain, rerooter)
            return
        cdb = local / VPASSWD_CDB
        try:
            data = read_cdb(cdb)
        except FileNotFoundError:
            yield self._skip(local, f"{label}: neither {VPASSWD} nor {VPASSWD_CDB} can be read")
            return
        except (OSError, CdbError) as exc:
            yield self._skip(cdb, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
            return
        entries: list[tuple[str, str]] = []
        try:
            for number, (key, value) in enumerate(iter_records(data), 1):
                entries.append((f"{cdb}:record {number}", raw_text(key + b":" + value)))
        except CdbError as exc:
            yield self._skip(cdb, f"damaged cdb, records after this point lost: {exc}")
        yield from self._accounts(entries, domain, rerooter, "vpopmail-cdb")

    def _read_vpasswd(
        self, stream: BinaryIO, path: Path, domain: Domain, rerooter: Rerooter
    ) -> Iterator[Account | Skipped]:
        entries: list[tuple[str, str]] = []
        try:
            for lineno, raw in iter_lines(stream):
                if isinstance(raw, LongLine):
                    yield self._skip(f"{path}:{lineno}", f"line of {raw.length} bytes is too long")
                elif raw.strip():
                    entries.append((f"{path}:{lineno}", raw_text(raw)))
        except OSError as exc:
            yield self._skip(path, f"read error, rest of file lost: {exc.strerror or exc}")
        yield from self._accounts(entries, domain, rerooter, self.store)

    def _accounts(
        self, entries: list[tuple[str, str]], domain: Domain, rerooter: Rerooter, store: str
    ) -> Iterator[Account | Skipped]:
        seen: set[str] = set()
        aliases = tuple(f"alias:{name}" for name in domain.aliases)
        for where, text in entries:
            try:
                entry = parse_vpasswd_line(text)
            except ValueError as exc:
                yield self._skip(where, f"not a vpasswd line: {exc}")
                continue
            if entry.name in seen:
                yield self._skip(where, "duplicate user name (vpopmail uses the first line)")
                continue
            seen.add(entry.name)
            lastauth = UNKNOWN_LASTAUTH
            user_dir = self._user_dir(entry, domain, rerooter)
            if user_dir is not None:
                try:
                    lastauth = read_lastauth(user_dir)
                except OSError as exc:
                    reason = f"lastauth unreadable ({exc.strerror or exc}); last login unknown"
                    yield self._skip(user_dir / "lastauth", reason)
            yield vpasswd_account(
                entry,
                source=self.name,
                store=store,
                location=where,
                domain=domain.name or None,
                lastauth=lastauth,
                extra_flags=aliases,
            )

    @staticmethod
    def _user_dir(entry: VpasswdEntry, domain: Domain, rerooter: Rerooter) -> Path | None:
        if not entry.dir:
            return None
        return rerooter.map_under(entry.dir, domain.original_dir, domain.local_dir)
