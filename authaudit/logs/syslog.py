"""The syslog envelope of a mail-log line: when, which host, which program and pid, and the text.

:func:`parse_line` splits the header once so that per-MTA parsers can dispatch on the program and
look only at the message. It recognises, by the first character:

* RFC 3164 ``Jan  3 06:22:09 host prog[pid]: msg`` (also zero- or un-padded days, a fraction, a
  BSD ``-v`` ``<fac.pri>`` token, and no host at all, as in Dovecot's own log file);
* RFC 3339 / ISO ``2024-01-05T10:00:00.123456+01:00 host prog[pid]: msg`` (``+0100``, ``Z``,
  or no offset; a space instead of ``T``);
* Exim's main log ``2024-01-05 10:00:00[.mmm] [pid] msg`` and ``tai64nlocal`` output (program
  ``exim`` unless the caller says otherwise);
* daemontools multilog ``@4000000065a1b2c3xxxxxxxx [prog: ]msg`` (TAI64N, UTC);
* RFC 5424 ``<pri>1 ts host app procid msgid sd msg``;
* a ``docker compose`` ``service  | `` prefix, and journal lines without a timestamp
  (``host prog[pid]: msg``); an Exim line under syslog keeps Exim's own inner timestamp.

Anything else gives None, which callers count. Any input, including undecodable bytes, gives an
:class:`Envelope` or None, never an exception.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from authaudit.logs.timestamps import MONTHS, Yearless, parse_offset, tai64n_to_datetime

__all__ = ["Envelope", "fast_host", "parse_line", "split_tag", "stamp16"]


class Envelope(NamedTuple):
    """The syslog header fields of one log line and the message after them."""

    ts: datetime | None
    """When the line was written: aware if the line carried a zone (RFC 3339, TAI64N), naive
    local time otherwise; None when the line has no usable time (see ``ts_reason``)."""
    host: str | None
    """The host field (None when the format has none: Exim main log, multilog, Dovecot file)."""
    program: str | None
    """The tag before ``[pid]:``: ``postfix/submission/smtpd``, ``dovecot``, ``qmail-smtpd``."""
    pid: int | None
    message: str
    """Everything after the header, without the line end."""
    ts_reason: str = ""
    """Why ``ts`` is None: ``yearless`` (see ``yearless``), ``no timestamp``, ``invalid date``."""
    yearless: Yearless | None = None
    """The month/day/time of an RFC 3164 stamp, to be completed by ``YearInference``."""


# "host prog[pid]: msg" or "prog[pid]: msg"; a host never ends in ":", so the two cannot both fit
# ("Jan 29 09:33:58 pop3-login: Info: ..." has no host).
# A Dovecot tag may hold ":" in parentheses and a session id: "auth(u,192.0.2.1,sasl:login)<id>".
_TAIL = (
    r"(?:(\S*[^\s:]) )?([^\s\[\]:(]+(?:\([^()\s]*\))?(?:<[^<>\s]*>)?)"
    r"(?:\[(\d{1,10})\])?:(?: |$)"
)
_HEADER3164 = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<H>\d\d):(?P<M>\d\d):(?P<S>\d\d)"
    r"(?:\.(?P<frac>\d{1,9}))? (?:<[^>\s]{1,20}> )?",
    re.ASCII,
)
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)(?P<sep>[T ])(?P<H>\d\d):(?P<M>\d\d):(?P<S>\d\d)"
    r"(?:[.,](?P<frac>\d{1,9}))?(?P<off>Z|[+-]\d\d:?\d\d)? (?P<rest>.*)",
    re.DOTALL | re.ASCII,
)
_TAIL_RE = re.compile(_TAIL, re.ASCII)
_EXIM_PID = re.compile(r"\[(\d{1,10})\] (.*)", re.DOTALL | re.ASCII)
_TAI64N = re.compile(r"@([0-9a-fA-F]{24}) (?:(?P<prog>[\w.-]+(?:\[\d{1,10}\])?): )?(?P<msg>.*)",
                     re.DOTALL | re.ASCII)
_RFC5424 = re.compile(
    r"<\d{1,3}>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\S+) \S+ "
    r"(?:-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*)|$)",
    re.DOTALL | re.ASCII,
)
_DOCKER = re.compile(r"[\w.-]+ +\| (.*)", re.DOTALL | re.ASCII)
_LEVELS = frozenset({"Info", "Warning", "Error", "Fatal", "Panic", "Debug"})
_LEVEL_PREFIXES = tuple(f"{level}: " for level in sorted(_LEVELS))
_QMAIL_WORDS = ("new msg ", "info msg ", "starting delivery ", "delivery ", "end msg ",
                "status: local ", "bounce msg ", "triple bounce", "CHKUSER ", "tcpserver: ")
"""How lines of a qmail log start, to tell ``tai64nlocal`` output from Exim's main log."""
_NOT_PROGRAMS = frozenset({"status", "warning", "alert"})
"""Words before ``: `` in a multilog line that are qmail-send's, not the name of a program."""
_INNER_PROG = re.compile(r"([\w.-]+(?:\[\d{1,10}\])?): (.*)", re.DOTALL | re.ASCII)
_EXIM_ID = re.compile(r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}$")


def _pid(text: str | None) -> int | None:
    return int(text) if text is not None else None


def _micro(frac: str | None) -> int:
    return int((frac + "00000")[:6]) if frac else 0


def _iso(match: re.Match[str]) -> tuple[datetime | None, str]:
    off = match["off"]
    zone = parse_offset(off) if off else None
    if off and zone is None:
        return None, "invalid date"
    try:
        return datetime(
            int(match["y"]), int(match["m"]), int(match["d"]), int(match["H"]), int(match["M"]),
            int(match["S"]), _micro(match["frac"]), tzinfo=zone,
        ), ""
    except ValueError:
        return None, "invalid date"


def _tail(
    ts: datetime | None, reason: str, yearless: Yearless | None, line: str, pos: int
) -> Envelope | None:
    """The envelope of ``line`` whose ``[host ]prog[[pid]]: msg`` part starts at ``pos``."""
    match = _TAIL_RE.match(line, pos)
    if match is None:
        return None
    host, prog, pid = match.groups()
    msg = line[match.end() :]
    if host is None and prog in _LEVELS:
        # Dovecot's own file: "Jun 23 15:04:05 Info: imap-login: Login: ..."
        inner = _TAIL_RE.match(msg)
        if inner is not None and inner[1] is None:
            return Envelope(ts, None, inner[2], _pid(inner[3]), msg[inner.end() :], reason,
                            yearless)
    if prog == "exim" and msg[:1].isdigit():
        inner_iso = _ISO.match(msg)
        if inner_iso is not None and inner_iso["sep"] == " ":
            inner_ts, inner_reason = _iso(inner_iso)
            if inner_ts is not None:
                return Envelope(inner_ts, host, prog, _pid(pid), inner_iso["rest"], inner_reason)
    return Envelope(ts, host, prog, None if pid is None else int(pid), msg, reason, yearless)


_STAMPS: dict[str, Yearless] = {}
"""RFC 3164 stamps by their 15 characters: most lines share their second with the line before."""


def _stamp3164(match: re.Match[str]) -> Yearless | None:
    month = MONTHS.get(match["mon"])
    day = int(match["day"])
    hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"])
    if month is None or not 1 <= day <= 31 or hour > 23 or minute > 59 or second > 60:
        return None
    return Yearless(month, day, hour, minute, min(second, 59), _micro(match["frac"]))


def _remember(key: str, stamp: Yearless) -> None:
    if len(_STAMPS) >= 4096:
        _STAMPS.clear()
    _STAMPS[key] = stamp


def _rfc3164(line: str) -> Envelope | None:
    key = line[:15]
    stamp = _STAMPS.get(key)
    if stamp is not None and line[15:16] == " " and line[16:17] != "<":
        return _tail(None, "yearless", stamp, line, 16)
    match = _HEADER3164.match(line)
    if match is None:
        return None
    stamp = _stamp3164(match)
    if stamp is None:
        return None
    if match.end() == 16 and line[15] == " ":
        _remember(key, stamp)
    return _tail(None, "yearless", stamp, line, match.end())


def stamp16(head: str) -> Yearless | None:
    """The stamp of a line whose first 16 characters are ``head``, when they are exactly an RFC
    3164 stamp and a space (``Jan  3 06:22:09 ``, ``Jan 03 ...``, no fraction), else None.

    Lines with such a head may take :func:`split_tail`; the result is cached, as in
    :func:`parse_line`, so lines of the same second share one object.
    """
    if head[15:16] != " ":
        return None
    key = head[:15]
    stamp = _STAMPS.get(key)
    if stamp is not None:
        return stamp
    match = _HEADER3164.match(head)
    if match is None or match.end() != 16:
        return None
    stamp = _stamp3164(match)
    if stamp is not None:
        _remember(key, stamp)
    return stamp


def _rfc3339_fast(line: str) -> Envelope | None:
    """``YYYY-MM-DDTHH:MM:SS[.f][zone] `` read by ``fromisoformat`` after a shape check."""
    space = line.find(" ", 19, 40)
    if space < 0 or line[4] != "-" or line[7] != "-" or line[13] != ":" or line[16] != ":":
        return None
    try:
        ts = datetime.fromisoformat(line[:space])
    except ValueError:
        return None
    return _tail(ts, "", None, line, space + 1)


def _syslog_after_space_iso(tail: re.Match[str], rest: str) -> bool:
    """Whether ``YYYY-MM-DD HH:MM:SS`` is followed by a syslog tail rather than Exim's text.

    A host must not be an Exim message id (``1VxPit-000MMd-U4 SA: ...``); a line without a host
    must be Dovecot's (``auth-worker(default): Info: ...``), not an Exim ``acl_c0: ...`` line.
    """
    if tail[1] is not None:
        return _EXIM_ID.match(tail[1]) is None
    return rest.startswith(_LEVEL_PREFIXES, tail.end())


def _iso_line(line: str, program: str | None) -> Envelope | None:
    if line[10:11] == "T":
        env = _rfc3339_fast(line)
        if env is not None:
            return env
    match = _ISO.match(line)
    if match is None:
        return None
    ts, reason = _iso(match)
    rest = match["rest"]
    tail = _TAIL_RE.match(rest)
    if tail is not None and (match["sep"] == "T" or _syslog_after_space_iso(tail, rest)):
        return _tail(ts, reason, None, rest, 0)
    if match["sep"] == "T":
        return None
    # Exim main log (or tai64nlocal): no host, no program, maybe " [pid]".
    pid = None
    if rest[:1] == "[":
        exim_pid = _EXIM_PID.match(rest)
        if exim_pid is not None:
            pid, rest = int(exim_pid[1]), exim_pid[2]
    if program is None and rest.startswith(_QMAIL_WORDS):
        return Envelope(ts, None, None, pid, rest, reason)  # tai64nlocal of a qmail log
    return Envelope(ts, None, program or "exim", pid, rest, reason)


def _tai64n_line(line: str, program: str | None) -> Envelope | None:
    match = _TAI64N.match(line)
    if match is None:
        return None
    ts = tai64n_to_datetime(match[1])
    prog, pid = match["prog"], None
    msg = match["msg"]
    if prog in _LEVELS:  # Dovecot under multilog: "@4000... Info: imap-login: Login: ..."
        inner = _INNER_PROG.match(msg)
        prog, msg = (inner[1], inner[2]) if inner is not None else (None, msg)
    elif prog in _NOT_PROGRAMS:  # qmail-send "status: local 1/10 ...", "warning: ..."
        prog, msg = None, line[26:]
    if prog is not None and prog.endswith("]"):
        prog, _, pid_text = prog[:-1].partition("[")
        pid = int(pid_text)
    return Envelope(ts, None, prog or program, pid, msg,
                    "" if ts is not None else "invalid date")


def _rfc5424_line(line: str) -> Envelope | None:
    match = _RFC5424.match(line)
    if match is None:
        return None
    ts: datetime | None = None
    reason = "no timestamp"
    if match["ts"] != "-":
        iso = _ISO.match(match["ts"] + " ")
        if iso is None or iso["sep"] != "T":
            return None
        ts, reason = _iso(iso)
    pid_text = match["pid"]
    return Envelope(
        ts,
        None if match["host"] == "-" else match["host"],
        None if match["app"] == "-" else match["app"],
        int(pid_text) if pid_text.isdigit() and len(pid_text) <= 10 else None,
        match["msg"] or "",
        reason,
    )


def _dispatch(line: str, program: str | None, depth: int) -> Envelope | None:
    first = line[:1]
    env: Envelope | None = None
    if "A" <= first <= "S":  # Apr Aug Dec Feb Jan Jul Jun Mar May Nov Oct Sep
        env = _rfc3164(line)
    elif first.isdigit():
        env = _iso_line(line, program)
    elif first == "@":
        return _tai64n_line(line, program)
    elif first == "<":
        return _rfc5424_line(line)
    if env is not None or depth > 0:
        return env
    docker = _DOCKER.match(line)
    if docker is not None:
        return _dispatch(docker[1], program, depth + 1)
    tail = _TAIL_RE.match(line)
    if tail is not None and tail[1] is not None and tail[1][0].isalnum():
        return _tail(None, "no timestamp", None, line, 0)
    return None


def _fast_tail(stamp: Yearless, line: str) -> Envelope | None:
    """``host prog[pid]: msg`` after a 16-character RFC 3164 stamp, split with ``find`` only.

    Gives None for anything unusual (no host, a Dovecot level word, a tag with parentheses or
    ``<>``, an Exim line with its own stamp, white space or control characters where the regex
    takes none), which the regex path then handles."""
    space = line.find(" ", 17)
    colon = line.find(": ", space + 2)
    if space < 0 or colon < 0:
        return None
    host = line[16:space]
    if not fast_host(host):
        return None
    split = split_tag(line[space + 1 : colon])
    if split is None:
        return None
    return Envelope(None, host, split[0], split[1], line[colon + 2 :], "yearless", stamp)


def fast_host(host: str) -> bool:
    """Whether the fast header split may take ``host`` as the host field: what the regex takes
    (no white space, not ending in ``:``, no ``<pri>`` token), printable."""
    return bool(host) and host.isprintable() and " " not in host and host[-1] != ":" and (
        host[0] != "<")


def split_tag(tag: str) -> tuple[str, int | None] | None:
    """``(program, pid)`` of a syslog tag ``prog[pid]`` or ``prog`` as the fast header split
    reads it (the text between the host and the first ``": "``), or None when the tag needs the
    regex: spaces, ``:``, ``(``, ``<``, stray brackets, a Dovecot level word, or ``exim`` (whose
    message may carry its own stamp)."""
    if " " in tag or ":" in tag or "(" in tag or "<" in tag or tag in _LEVELS or (
            not tag.isprintable()):
        return None
    pid = None
    if tag[-1:] == "]":
        bracket = tag.find("[")
        digits = tag[bracket + 1 : -1]
        if bracket <= 0 or not digits.isdigit() or not digits.isascii() or len(digits) > 10:
            return None
        pid = int(digits)
        tag = tag[:bracket]
        if "]" in tag:
            return None
    elif "[" in tag or "]" in tag or not tag:
        return None
    if tag == "exim":
        return None
    return tag, pid


def parse_line(line: bytes | str, program: str | None = None) -> Envelope | None:
    """The envelope of one log line, or None if no known header fits.

    Line-end characters (``\\r``, ``\\n``) at the end are dropped. Bytes are decoded as UTF-8
    with undecodable bytes kept as surrogates (``surrogateescape``), so encoding ``message``
    the same way gives the original bytes back. ``program`` names the writer of lines whose
    format has no program field (multilog files, ``tai64nlocal`` output); Exim's main log
    defaults to ``exim``.
    """
    if isinstance(line, bytes):
        line = line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    else:
        line = line.rstrip("\r\n")
    if "A" <= line[:1] <= "S":  # the RFC 3164 fast path, inlined: most lines take it
        stamp = _STAMPS.get(line[:15])
        if stamp is not None and line[15:16] == " " and line[16:17] != "<":
            env = _fast_tail(stamp, line) or _tail(None, "yearless", stamp, line, 16)
            if env is not None:
                return env
    return _dispatch(line, program, 0)
