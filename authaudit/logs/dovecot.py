"""Dovecot's log lines: IMAP/POP3/submission/sieve logins and passdb (SASL backend) failures.

Dovecot writes to syslog as ``dovecot[pid]: <process>: <text>`` or to its own ``log_path`` file,
where the process is the syslog tag itself (``imap-login: Info: ...``,
``auth(user,ip,sasl:login)<session>: Info: ...``) or, after a TAI64N stamp, part of the message.
:class:`DovecotParser` brings all of these to one ``(process, arguments, text)`` form and reads:

* the login processes (``imap-login``, ``pop3-login``, ``submission-login``,
  ``managesieve-login``): ``Login: user=<u>, method=M, rip=IP, ...`` is a success, ``... (auth
  failed, N attempts[ in S secs])[ (auth_failed)]: user=<u>, ...`` a failure standing for N tries,
  ``(proxy dest auth failed)`` a failure reported by the proxied backend;
* the auth processes (``auth``, ``auth-worker``, Dovecot 1.x ``dovecot-auth``): passdb results
  ``name(user,ip[,<session>]): Password mismatch|unknown user|invalid credentials|
  pam_authenticate() failed: ...`` (``name`` is the driver or the passdb's configured name) and
  Dovecot 2.4's ``auth(user,ip,sasl:mech)<id>: sql: ...``, plus PAM's own
  ``pam_unix(dovecot:auth): authentication failure; ... rhost=IP`` lines. A result without a
  remote address (``passwd-file(user): unknown user``) is a userdb lookup for lmtp, lda or
  doveadm, not a login attempt, and is only counted.

**Double counting.** One failed IMAP login can appear twice: as the login process's ``auth
failed`` line and as the passdb line (with ``auth_verbose=yes``). When Postfix or Exim use Dovecot
for SMTP AUTH, only the passdb line exists. Both are given out; every event from an auth process
has service ``auth`` and a ``reason`` that starts with ``passdb: `` (``passdb: Password
mismatch``), and login-process events never do. A consumer counts login-process events for
IMAP/POP3/submission/sieve and ``passdb:`` events only for what no login process logged (SMTP
SASL); :func:`is_passdb_event` tells the two apart.

Connections that never tried a password (``no auth attempts``, ``disallowed plaintext auth``)
give no event; they are counted in :attr:`DovecotParser.counters`. A logged password (``(given
password: X)``) goes to ``LoginEvent.secret`` and is cut from the evidence line, as is a ``(SHA1
of given password: ...)`` hash. Every other line of a Dovecot process (mail sessions, lmtp
deliveries, master) is recognised noise. The parser keeps no state.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from authaudit.logs.interface import (
    NOTHING,
    SECRET_MARK,
    LogEvent,
    evidence_line,
    login_event,
    normalise_ip,
)
from authaudit.logs.merge import LogRecord
from authaudit.model import LoginEvent, LoginKind, Skipped
from authaudit.redact import Secret

__all__ = ["PASSDB_REASON", "DovecotParser", "is_passdb_event"]

PASSDB_REASON = "passdb: "
"""Prefix of ``LoginEvent.reason`` for events read from an auth (passdb) process line."""

_LEVELS = ("Info: ", "Warning: ", "Error: ", "Fatal: ", "Panic: ", "Debug: ")
_LEVEL_WORDS = frozenset(level[:-2] for level in _LEVELS)

_LOGIN_SERVICES = {
    "imap-login": "imap",
    "pop3-login": "pop3",
    "submission-login": "submission",
    "managesieve-login": "sieve",
    "lmtp-login": "lmtp",
}
_AUTH_PROCESSES = frozenset({"auth", "auth-worker", "dovecot-auth"})
_NOISE_PROCESSES = frozenset({
    "master", "imap", "pop3", "lmtp", "submission", "managesieve", "lda", "dovecot-lda",
    "config", "log", "anvil", "stats", "old-stats", "indexer", "indexer-worker", "doveadm",
    "quota-status", "dict", "dict-async", "ssl-params", "replicator", "aggregator", "director",
    "imap-urlauth", "imap-urlauth-login", "imap-urlauth-worker", "imap-hibernate", "pop3c",
    "sieve", "lazy-expunge", "fts", "health-check", "quota-warning", "doveconf",
})
_KNOWN_PROCESSES = (
    frozenset(_LOGIN_SERVICES) | _AUTH_PROCESSES | _NOISE_PROCESSES | frozenset({"dovecot"})
)
_PASSDB_DRIVERS = frozenset({
    "passwd-file", "passwd", "shadow", "pam", "sql", "ldap", "checkpassword", "static",
    "bsdauth", "lua", "oauth2", "imap", "dict", "vpopmail", "plesk", "sia",
})

_MECHANISMS = frozenset({
    "plain", "login", "cram-md5", "digest-md5", "scram-sha-1", "scram-sha-256", "oauthbearer",
    "xoauth2", "gssapi", "gss-spnego", "ntlm", "otp", "anonymous", "external", "apop", "winbind",
})
"""SASL mechanism subsystems of the auth process: their unknown messages are protocol chatter."""

# "name(args)<id><id>: " at the start of a message; args hold no parentheses.
_PROCESS = re.compile(r"([a-z][a-z0-9-]{0,40})(?:\(([^()]{0,512})\))?((?:<[^<>]{0,128}>){0,2}): ")
# the same as a whole syslog tag: "auth(user,ip,sasl:login)<id>", "auth-worker(80180)"
_PROCESS_TAG = re.compile(r"([a-z][a-z0-9-]{0,40})(?:\(([^()]{0,512})\))?(?:<[^<>]{0,128}>){0,2}")
_AUTH_FAILED = re.compile(
    r"\(auth failed, (\d{1,9}) attempts?(?: in \d{1,9} secs?)?\)(?: \([a-z_]{1,40}\))?: "
)
_DRIVER = re.compile(r"([a-z][a-z0-9_-]{0,40})(?:\(([^()]{0,512})\))?: ")
_TIMES = re.compile(r": (\d{1,9}) Time\(s\)\Z")
_GIVEN = " (given password: "
_SHA1_GIVEN = " (SHA1 of given password: "


def is_passdb_event(event: LoginEvent) -> bool:
    """Whether a Dovecot event comes from an auth process (passdb) rather than a login process."""
    return event.reason.startswith(PASSDB_REASON)


def _strip_level(text: str) -> tuple[str, str]:
    """``text`` without a leading ``Info: ``-style level word, and that level (``""`` if none)."""
    if text[:1] in "IWEFPD":
        for level in _LEVELS:
            if text.startswith(level):
                return text[len(level) :], level
    return text, ""


class DovecotParser:
    """Turns Dovecot login-process and passdb lines into :class:`LoginEvent` records.

    :attr:`counters` counts lines recognised as no credential attempt: ``no_auth_attempts``
    (scanners and TLS probes), ``plaintext_disallowed`` (a client tried a cleartext login where it
    is not allowed; no password was checked), ``login_chatter`` (other login-process lines),
    ``no_client_lookups`` (passdb/userdb verdicts with no remote address).
    """

    name = "dovecot"

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()

    # -- LogParser protocol -------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """Dovecot's own tags and, for untagged lines, messages that start with a process."""
        if program is None:
            return self._starts_with_process(message)
        if program.startswith("dovecot"):
            return True
        if program in _LEVEL_WORDS:  # TAI64N "@4000... Info: imap-login: ..."
            return self._starts_with_process(message)
        match = _PROCESS_TAG.fullmatch(program)
        if match is None:
            return False
        process = match[1]
        if process in _NOISE_PROCESSES:
            # bare "imap"/"pop3" tags belong to other servers (Cyrus, UW); Dovecot adds "(user)"
            return match[2] is not None
        return process in _LOGIN_SERVICES or process in _AUTH_PROCESSES

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The login event of one line, NOTHING for noise, None for a line not understood."""
        env = record.envelope
        program = env.program
        body, level = _strip_level(env.message)
        args: str | None = None
        if program is None or program in _LEVEL_WORDS or program == "dovecot":
            match = _PROCESS.match(body)
            if match is None:
                return None
            process, args = match[1], match[2]
            body = body[match.end() :]
            if process == "dovecot":  # "dovecot: auth(default): ..." nested once more
                match = _PROCESS.match(body)
                if match is None:
                    return None
                process, args = match[1], match[2]
                body = body[match.end() :]
            body, inner = _strip_level(body)
            level = inner or level
        else:
            tag = _PROCESS_TAG.fullmatch(program)
            if tag is None:
                return None
            process, args = tag[1], tag[2]
        service = _LOGIN_SERVICES.get(process)
        if service is not None:
            return self._login(record, service, body)
        if process in _AUTH_PROCESSES:
            return self._auth(record, args, body, level)
        if process in _NOISE_PROCESSES:
            return NOTHING
        if process.endswith("-login"):
            return self._login(record, process[:-6], body)
        return None

    def flush(self) -> Sequence[LogEvent]:
        """Nothing: the parser keeps no open state."""
        return NOTHING

    def skipped(self) -> Sequence[Skipped]:
        """Nothing is ever given up (no state)."""
        return ()

    # -- login processes ----------------------------------------------------------------------

    def _login(self, record: LogRecord, service: str, body: str) -> Sequence[LogEvent] | None:
        if body.startswith("Login: "):
            user, method, rip = _login_fields(body, 7)
            if user is None:
                return None
            return (self._event(record, service, LoginKind.SUCCESS, user, rip, method),)
        pos = body.find("(auth failed, ")
        if pos >= 0:
            match = _AUTH_FAILED.match(body, pos)
            if match is None:
                return None
            user, method, rip = _login_fields(body, match.end())
            reason = body[:pos].rstrip() or "auth failed"
            return (self._event(record, service, LoginKind.FAILURE, user, rip, method,
                                attempts=int(match[1]), reason=reason[:200]),)
        pos = body.find("(proxy dest auth failed): ")
        if pos >= 0:
            user, method, rip = _login_fields(body, pos + 26)
            return (self._event(record, service, LoginKind.FAILURE, user, rip, method,
                                reason="proxy dest auth failed"),)
        if "(no auth attempts" in body:
            self.counters["no_auth_attempts"] += 1
        elif "plaintext auth)" in body:  # "tried to use disallowed|disabled plaintext auth"
            self.counters["plaintext_disallowed"] += 1
        else:
            self.counters["login_chatter"] += 1
        return NOTHING

    # -- auth processes -----------------------------------------------------------------------

    def _auth(
        self, record: LogRecord, args: str | None, body: str, level: str
    ) -> Sequence[LogEvent] | None:
        if body.startswith("conn "):
            # "conn unix:auth-worker (pid=27359,uid=97): auth-worker<55>: pam(...): ..."
            end = body.find("): ")
            if end < 0:
                return NOTHING
            body = body[end + 3 :]
            if body.startswith("auth-worker<"):
                end = body.find(">: ")
                if end < 0:
                    return NOTHING
                body = body[end + 3 :]
            body, inner = _strip_level(body)
            level = level or inner
        if body.startswith("pam_unix("):
            return self._pam_unix(record, body)
        match = _DRIVER.match(body)
        if match is None:
            return NOTHING  # auth process chatter: "master in:", client connects, warnings
        name, driver_args = match[1], match[2]
        if driver_args is None and name not in _PASSDB_DRIVERS and (
                args is None or "," not in args):
            return NOTHING  # "auth: Info: master in: ...": no Dovecot 2.4 "auth(user,ip,...)"
        user, ip, method = _passdb_who(driver_args, args)
        if user == "?":  # Dovecot's placeholder before the user name is known
            user = None
        quiet = level not in ("", "Info: ") or name in _MECHANISMS
        return self._passdb_result(record, user, ip, method, body, match.end(), quiet)

    def _passdb_result(
        self, record: LogRecord, user: str | None, ip: str | None, method: str | None,
        body: str, start: int, quiet: bool,
    ) -> Sequence[LogEvent] | None:
        message = record.envelope.message
        offset = len(message) - len(body)  # body is a suffix of the message
        secret: Secret | None = None
        cut_message = message
        result = body[start:]
        attempts = 1
        times = _TIMES.search(result)
        if times is not None:
            attempts = max(1, int(times[1]))
            result = result[: times.start()]
        for marker in (_GIVEN, _SHA1_GIVEN):
            pos = result.find(marker)
            if pos < 0:
                continue
            value_start = pos + len(marker)
            value_end = result.rfind(")")
            if value_end < value_start:
                value_end = len(result)
            if marker == _GIVEN:
                secret = Secret(result[value_start:value_end])
            at = offset + start + value_start
            cut_message = (cut_message[:at] + SECRET_MARK
                           + cut_message[offset + start + value_end :])
            result = result[:pos]
            break
        kind = _passdb_kind(result)
        if kind is None:
            # an unknown Info-level passdb result may be a failure phrase not known yet: show it
            return NOTHING if quiet else None
        client_ip = normalise_ip(ip)
        if client_ip is None:
            # no remote address: a userdb lookup for lmtp/lda/doveadm, not a login attempt
            self.counters["no_client_lookups"] += 1
            return NOTHING
        return (login_event(record, self.name, kind, user, client_ip, method, service="auth",
                            attempts=attempts, reason=(PASSDB_REASON + result.strip())[:200],
                            secret=secret, line=evidence_line(record, cut_message)),)

    def _pam_unix(self, record: LogRecord, body: str) -> Sequence[LogEvent] | None:
        """``pam_unix(dovecot:auth): authentication failure; logname= ... ruser=U rhost=IP``."""
        if "authentication failure;" not in body:
            return NOTHING  # session opened/closed, "check pass; user unknown" and the like
        user, rhost = _pam_unix_who(body)
        return (self._event(record, "auth", LoginKind.FAILURE, user, rhost, None,
                            reason=PASSDB_REASON + "pam_unix authentication failure"),)

    def _event(
        self, record: LogRecord, service: str, kind: LoginKind, user: str | None,
        ip: str | None, method: str | None, *, attempts: int = 1, reason: str = "",
    ) -> LoginEvent:
        return login_event(record, self.name, kind, user, normalise_ip(ip), method,
                           service=service, attempts=attempts, reason=reason)

    @staticmethod
    def _starts_with_process(message: str) -> bool:
        match = _PROCESS.match(_strip_level(message)[0])
        return match is not None and match[1] in _KNOWN_PROCESSES


def _login_fields(text: str, pos: int) -> tuple[str | None, str | None, str | None]:
    """``user``, ``method`` and ``rip`` from ``user=<u>, method=M, rip=IP, lip=...`` at ``pos``."""
    user: str | None = None
    method: str | None = None
    rip: str | None = None
    if text.startswith("user=<", pos):
        close = text.find(">, ", pos + 6)
        if close < 0:
            close = len(text) - 1 if text.endswith(">") else -1
        if close >= 0:
            user = text[pos + 6 : close] or None
            pos = close + 3
    for token in text[pos : pos + 400].split(", ", 6):
        if token.startswith("method="):
            method = token[7:] or None
        elif token.startswith("rip="):
            rip = token[4:]
            break
    return user, method, rip


def _passdb_who(
    driver_args: str | None, process_args: str | None
) -> tuple[str | None, str | None, str | None]:
    """User, client address and SASL method of a passdb line.

    ``driver(user,ip[,<session>])`` names them; Dovecot 2.4 puts them on the process instead:
    ``auth(user,ip,sasl:login)<id>: sql: ...``. ``auth-worker(80180)`` (a pid) names nobody.
    """
    args = driver_args if driver_args is not None else process_args
    if args is None:
        return None, None, None
    parts = args.split(",", 2)
    if len(parts) == 1:
        if driver_args is None:  # "auth(default)", "auth-worker(80180)"
            return None, None, None
        return parts[0] or None, None, None
    method = None
    if len(parts) == 3 and parts[2].startswith("sasl:"):
        method = parts[2][5:].upper() or None
    return parts[0] or None, parts[1] or None, method


def _pam_unix_who(body: str) -> tuple[str | None, str | None]:
    """User and remote host of a pam_unix failure line whose user may hold `` rhost=`` itself.

    pam_unix writes ``ruser=%s rhost=%s  user=%s``; Dovecot sets both ``ruser`` and ``user`` to
    the login name, so the split where the text before `` rhost=`` equals the text after
    ``  user=`` is the true one, whatever the name contains.
    """
    start = body.find(" ruser=")
    if start < 0:
        return None, None
    text = body[start + 7 :]
    pos = text.find(" rhost=")
    while pos >= 0:
        name = text[:pos]
        rest = text[pos + 7 :]
        tail = "  user=" + name
        if rest.endswith(tail) and " " not in rest[: len(rest) - len(tail)]:
            return name or None, rest[: len(rest) - len(tail)]
        pos = text.find(" rhost=", pos + 1)
    end = text.find("  user=")
    head = text if end < 0 else text[:end]
    pos = head.rfind(" rhost=")
    if pos < 0:
        return None, None
    user = text[end + 7 :] if end >= 0 else head[:pos]
    return user or None, head[pos + 7 :].split(" ", 1)[0]


def _passdb_kind(result: str) -> LoginKind | None:
    """What a passdb result text means for the login, or None when it is no verdict."""
    if result.startswith("unknown user"):
        return LoginKind.UNKNOWN_USER
    if result.startswith(("Password mismatch", "invalid credentials", "Invalid credentials")):
        return LoginKind.FAILURE
    if result.startswith("pam_authenticate() failed"):
        if "User not known" in result or "unknown user" in result:
            return LoginKind.UNKNOWN_USER
        return LoginKind.FAILURE
    return None
