"""Telling SMTP from other traffic by content, on any port, from the first bytes of each side.

:func:`classify` looks at what each endpoint of a new TCP connection sent first and says whether the
connection carries SMTP (and which endpoint is the client), TLS from its first byte (SMTPS on 465,
or any TLS: the caller judges by port or server name whether it is mail), SMTP inside a SOCKS4 or
SOCKS5 tunnel (with the number of handshake bytes to skip on each side), something else, or that it
cannot tell yet. It works when the capture starts mid-session: a client line such as
``AUTH LOGIN`` or a base64 line, answered by a server ``334``/``235``, is enough.

Greetings beginning ``220`` are shared with FTP, and ``AUTH`` with POP3 and FTP, so those alone are
not taken as proof; EHLO/HELO/LHLO, a greeting naming (E)SMTP, or a command answered by an SMTP-only
reply code are.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace

from authaudit.smtp.b64 import is_strict_b64
from authaudit.smtp.tls import Sniff, looks_like_tls, sniff_tls

__all__ = ["Kind", "Verdict", "classify"]


class Kind(enum.Enum):
    """What a connection carries."""

    SMTP = "smtp"
    IMPLICIT_TLS = "implicit tls"
    NOT_SMTP = "not smtp"
    NEED_MORE = "need more bytes"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of :func:`classify`."""

    kind: Kind
    client_is_a: bool | None = None
    """True when endpoint A is the client; None when it cannot be told (or does not matter)."""
    mid_session: bool = False
    """No greeting was captured: create the session with ``greeting=False``."""
    tunnel: str | None = None
    """``socks4`` or ``socks5`` when the SMTP (or TLS) runs inside that tunnel."""
    skip_a: int = 0
    """Bytes at the start of A's stream that belong to the tunnel handshake."""
    skip_b: int = 0
    sni: str | None = None
    """Server name from the ClientHello (IMPLICIT_TLS only)."""
    reason: str = ""


class _Role(enum.Enum):
    EMPTY = "empty"
    UNDECIDED = "undecided"
    HELO = "client EHLO/HELO/LHLO"
    COMMAND = "client command mid-session"
    B64 = "client base64 line"
    GREETING = "server greeting naming SMTP"
    GREETING_220 = "server 220 greeting"
    REPLY = "server SMTP reply"
    FOREIGN = "another protocol"


_LINE_MAX = 512
_HELO = re.compile(rb"(?i:EHLO|HELO|LHLO)(?: |\r?\n)")
_GREETING = re.compile(rb"220(?:[ -]|\r?\n)")
_SMTP_WORD = re.compile(rb"(?i)\b(?:E?SMTP|LMTP|Postfix|Exim|Sendmail|qmail|MAIL Service)\b")
_REPLY = re.compile(rb"([2-5][0-9][0-9])(?:[ -]|\r?\n)")
_SMTP_ONLY_CODES = frozenset({334, 235, 354, 535, 538, 534, 454, 503, 504, 250, 221, 421})
_COMMAND = re.compile(
    rb"(?i:AUTH [A-Z0-9_-]{1,20}(?: \S*)?\r?\n|MAIL FROM: ?<|RCPT TO: ?<"
    rb"|(?:STARTTLS|DATA|RSET|QUIT|NOOP)\r?\n|BDAT [0-9]+)"
)
_FTP_AUTH = re.compile(rb"(?i)AUTH (?:TLS|SSL|TLS-C|TLS-P)\r?\n")
_PREFIXES = (b"EHLO ", b"HELO ", b"LHLO ", b"220 ", b"MAIL FROM:", b"RCPT TO:", b"AUTH ")


def classify(a: bytes, b: bytes, *, final: bool = False) -> Verdict:
    """Classify a connection from the first bytes endpoint A and endpoint B sent.

    Args:
        a, b: the bytes seen so far from each endpoint (a few hundred are plenty).
        final: no more bytes will come; never answer ``NEED_MORE``.
    """
    verdict = _classify(a, b, final)
    if verdict.kind is Kind.NEED_MORE and final:
        return Verdict(Kind.NOT_SMTP, reason="not enough bytes to tell")
    return verdict


def _classify(a: bytes, b: bytes, final: bool) -> Verdict:
    if not a and not b:
        return Verdict(Kind.NEED_MORE)
    tunnel = _socks(a, b, final)
    if tunnel is not None:
        return tunnel
    tls = _tls(a, b, final)
    if tls is not None:
        return tls
    return _text(_role(a, final), _role(b, final), final)


def _tls(a: bytes, b: bytes, final: bool) -> Verdict | None:
    for data, is_a in ((a, True), (b, False)):
        if looks_like_tls(data):
            hello = sniff_tls(data, final=final)
            if hello.kind is Sniff.NEED_MORE:
                return Verdict(Kind.NEED_MORE)
            if hello.kind is Sniff.CLIENT_HELLO:
                return Verdict(Kind.IMPLICIT_TLS, is_a, sni=hello.sni, reason="TLS ClientHello")
            if hello.kind is Sniff.SERVER_HELLO:
                return Verdict(Kind.IMPLICIT_TLS, not is_a, reason="TLS ServerHello")
            return Verdict(Kind.IMPLICIT_TLS, reason="TLS records")
    return None


def _role(data: bytes, final: bool) -> _Role:
    if not data:
        return _Role.EMPTY
    nl = data.find(b"\n", 0, _LINE_MAX)
    complete = nl >= 0 or final or len(data) >= _LINE_MAX
    line = data[: nl + 1] if nl >= 0 else data[:_LINE_MAX]
    if _HELO.match(line):
        return _Role.HELO
    if _GREETING.match(line):
        return _Role.GREETING if _SMTP_WORD.search(line) else _Role.GREETING_220
    reply = _REPLY.match(line)
    if reply:
        return _Role.REPLY if int(reply.group(1)) in _SMTP_ONLY_CODES else _Role.FOREIGN
    if _FTP_AUTH.match(line):
        return _Role.FOREIGN
    if _COMMAND.match(line):
        return _Role.COMMAND
    if not complete:
        upper = line.upper()
        if any(p.startswith(upper) or upper.startswith(p) for p in _PREFIXES):
            return _Role.UNDECIDED
        if line[:3].isdigit() or (len(line) < 3 and line.isdigit()):
            return _Role.UNDECIDED
        return _Role.UNDECIDED if is_strict_b64(line[: len(line) & ~3]) else _Role.FOREIGN
    text = line.rstrip(b"\r\n")
    if len(text) >= 4 and is_strict_b64(text):
        return _Role.B64
    return _Role.FOREIGN


_CLIENT_ROLES = frozenset({_Role.HELO, _Role.COMMAND, _Role.B64})
_SERVER_ROLES = frozenset({_Role.GREETING, _Role.GREETING_220, _Role.REPLY})


def _text(ra: _Role, rb: _Role, final: bool) -> Verdict:
    for mine, other, is_a in ((ra, rb, True), (rb, ra, False)):
        if mine is _Role.HELO and other not in _CLIENT_ROLES:
            return Verdict(Kind.SMTP, is_a, mid_session=other is _Role.REPLY, reason=mine.value)
    for mine, other, is_a in ((ra, rb, True), (rb, ra, False)):
        if mine is _Role.GREETING and other not in _SERVER_ROLES:
            return Verdict(Kind.SMTP, not is_a, reason=mine.value)
        if mine is _Role.GREETING_220 and other in _CLIENT_ROLES:
            return Verdict(Kind.SMTP, not is_a, reason=mine.value)
        if mine is _Role.REPLY and other in (_Role.COMMAND, _Role.B64):
            return Verdict(Kind.SMTP, not is_a, mid_session=True, reason="command and SMTP reply")
        if mine is _Role.COMMAND and other is _Role.EMPTY and final:
            return Verdict(Kind.SMTP, is_a, mid_session=True, reason="SMTP command alone")
    if _Role.FOREIGN in (ra, rb) or (ra in _CLIENT_ROLES and rb in _CLIENT_ROLES):
        return Verdict(Kind.NOT_SMTP, reason=f"{ra.value} / {rb.value}")
    if ra in _SERVER_ROLES and rb in _SERVER_ROLES:
        return Verdict(Kind.NOT_SMTP, reason="both sides talk like a server")
    return Verdict(Kind.NEED_MORE)


# -- SOCKS ---------------------------------------------------------------------------------


class _Incomplete(Exception):
    """The handshake is cut short: more bytes are needed."""


def _socks(a: bytes, b: bytes, final: bool) -> Verdict | None:
    """A verdict for a SOCKS-tunnelled connection, or None when this is not SOCKS."""
    for client, server, is_a in ((a, b, True), (b, a, False)):
        if not client or client[0] not in (4, 5):
            continue
        try:
            if client[0] == 5:
                skips = _socks5(client, server)
            else:
                skips = _socks4(client, server)
        except _Incomplete:
            if _plausible_socks(client):
                return Verdict(Kind.NEED_MORE)
            continue
        except ValueError:
            continue
        if skips is None:
            continue
        name = f"socks{client[0]}"
        skip_c, skip_s = skips
        inner_c, inner_s = client[skip_c:], server[skip_s:]
        inner = _classify(*((inner_c, inner_s) if is_a else (inner_s, inner_c)), final)
        if inner.kind is Kind.NOT_SMTP:
            return Verdict(Kind.NOT_SMTP, reason=f"{name} tunnel to {inner.reason}")
        skip_a, skip_b = (skip_c, skip_s) if is_a else (skip_s, skip_c)
        return replace(inner, tunnel=name, skip_a=skip_a, skip_b=skip_b)
    return None


def _plausible_socks(client: bytes) -> bool:
    if client[0] == 5:
        return len(client) < 2 or 1 <= client[1] <= 16
    return len(client) < 2 or client[1] in (1, 2)


def _at(data: bytes, index: int) -> int:
    if index >= len(data):
        raise _Incomplete
    return data[index]


def _socks5(client: bytes, server: bytes) -> tuple[int, int] | None:
    """(client, server) handshake lengths of SOCKS5 (RFC 1928, RFC 1929), None if it is not one."""
    count = _at(client, 1)
    if count == 0:
        return None  # e.g. DCE/RPC starts 05 00
    methods = client[2 : 2 + count]
    pos_c = 2 + count
    if len(methods) < count:
        raise _Incomplete
    if _at(server, 0) != 5:
        return None
    method = _at(server, 1)
    if method not in methods:
        return None
    pos_s = 2
    if method == 2:  # username/password sub-negotiation
        if _at(client, pos_c) != 1:
            return None
        pos_c += 2 + _at(client, pos_c + 1)
        pos_c += 1 + _at(client, pos_c)
        if _at(server, pos_s) != 1 or _at(server, pos_s + 1) != 0:
            return None
        pos_s += 2
    elif method != 0:
        return None
    if _at(client, pos_c) != 5 or _at(client, pos_c + 1) != 1 or _at(client, pos_c + 2) != 0:
        return None
    pos_c = _socks5_address(client, pos_c + 3)
    if _at(server, pos_s) != 5 or _at(server, pos_s + 1) != 0:
        return None
    pos_s = _socks5_address(server, pos_s + 3)
    return pos_c, pos_s


def _socks5_address(data: bytes, pos: int) -> int:
    """Index just past ATYP, DST.ADDR and DST.PORT starting at ``pos``."""
    kind = _at(data, pos)
    if kind == 1:
        end = pos + 1 + 4 + 2
    elif kind == 4:
        end = pos + 1 + 16 + 2
    elif kind == 3:
        end = pos + 2 + _at(data, pos + 1) + 2
    else:
        raise ValueError("bad SOCKS5 address type")
    if end > len(data):
        raise _Incomplete
    return end


def _socks4(client: bytes, server: bytes) -> tuple[int, int] | None:
    """(client, server) handshake lengths of SOCKS4/4a CONNECT, None if it is not one."""
    if _at(client, 1) != 1:
        return None
    _at(client, 7)
    end = client.find(b"\x00", 8, 8 + 256)
    if end < 0:
        if len(client) < 8 + 256:
            raise _Incomplete
        return None
    if client[4:7] == b"\x00\x00\x00" and client[7] != 0:  # SOCKS4a: a host name follows
        end = client.find(b"\x00", end + 1, end + 1 + 256)
        if end < 0:
            raise _Incomplete
    if _at(server, 7) < 0 or server[0] != 0 or server[1] != 0x5A:
        return None
    return end + 1, 8
