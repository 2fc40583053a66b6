"""Deterministic generator of a large synthetic SMTP AUTH capture with exact ground truth.

The capture is a classic pcap (Ethernet, microsecond timestamps) of many interleaved TCP
connections:

* SMTP sessions on ports 25, 587 and 2525 with AUTH LOGIN (with and without an initial response,
  assorted 334 prompts), PLAIN (inline and after an empty ``334``, sometimes with an authzid),
  CRAM-MD5 (a real HMAC-MD5), NTLM (Type 1/2/3 with real NTLMv2 responses) and XOAUTH2; about
  70 % of the attempts succeed (235) and 30 % fail (535), sometimes followed by a retry. Successful
  sessions send a message whose body holds base64 attachments and lines that look like credentials.
  Some sessions use STARTTLS and continue with TLS-looking records (no cleartext AUTH), a few
  deliver mail without AUTH at all.
* HTTP flows on port 80 as noise (about a quarter of the packets).
* IPv4, IPv6 and 802.1Q VLAN framing; MSS-sized segments; about 2 % of the data segments are
  retransmitted later (exact duplicates) and about 1 % are swapped with the next segment going the
  same way when no packet of the other side lies between them (a swap across a reply would show
  the reply before the data it answers, which no real capture does). IPv4 header checksums are
  valid; TCP checksums are left at zero.

The ground truth (every AUTH attempt, in flow order) is written next to the capture as
``OUT.pcap.truth.tsv``; STARTTLS sessions are listed in ``OUT.pcap.tls.tsv``. The same seed and
session count always give the same bytes.

Usage: ``python bench/synth.py OUT.pcap [--sessions N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import hmac
import ipaddress
import itertools
import random
import string
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_SESSIONS",
    "GENERATOR_VERSION",
    "TLS_COLUMNS",
    "TRUTH_COLUMNS",
    "SynthConfig",
    "SynthResult",
    "TlsRow",
    "TruthRow",
    "generate",
    "main",
    "md4",
    "read_tls",
    "read_truth",
]

GENERATOR_VERSION: Final = 2
"""Bumped whenever the bytes produced for a given seed change (the benchmark caches on it)."""
DEFAULT_SESSIONS: Final = 16_000
DEFAULT_SEED: Final = 1
SMTP_PORTS: Final = (25, 587, 2525)
MSS: Final = 1448
CAPTURE_START_US: Final = 1_700_000_000 * 1_000_000
"""First session start: 2023-11-14 22:13:20 UTC, in microseconds."""

TRUTH_COLUMNS: Final = (
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "mechanism",
    "username",
    "secret",
    "outcome",
    "reply_code",
)
TLS_COLUMNS: Final = ("client_ip", "client_port", "server_ip", "server_port", "kind", "reply_code")

_FIN: Final = 0x01
_SYN: Final = 0x02
_PSH: Final = 0x08
_ACK: Final = 0x10
_CLIENT: Final = 0
_SERVER: Final = 1

_PCAP_HEADER: Final = struct.Struct("<IHHiIII")
_RECORD: Final = struct.Struct("<IIII")
_TCP: Final = struct.Struct("!IIBBHHH")
_IP4: Final = struct.Struct("!BBHHHBBH")
_IP6: Final = struct.Struct("!IHBB")
_MSS_OPTION: Final = struct.pack("!BBH", 2, 4, MSS)
_MASK32: Final = 0xFFFFFFFF
_CRLF: Final = b"\r\n"


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TruthRow:
    """One AUTH attempt as generated: the flow, what the client offered and the server's answer."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    mechanism: str
    username: str
    secret: str
    """Password (LOGIN, PLAIN), bearer token (XOAUTH2) or hashcat line (CRAM-MD5, NTLM)."""
    outcome: str
    """``success`` or ``failure``."""
    reply_code: int

    def to_fields(self) -> tuple[str, ...]:
        """The row as TSV fields, in :data:`TRUTH_COLUMNS` order."""
        return (
            self.client_ip,
            str(self.client_port),
            self.server_ip,
            str(self.server_port),
            self.mechanism,
            self.username,
            self.secret,
            self.outcome,
            str(self.reply_code),
        )


@dataclass(frozen=True, slots=True)
class TlsRow:
    """One connection that switched to TLS after STARTTLS (no cleartext AUTH visible)."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    kind: str = "starttls"
    reply_code: int = 220

    def to_fields(self) -> tuple[str, ...]:
        """The row as TSV fields, in :data:`TLS_COLUMNS` order."""
        return (
            self.client_ip,
            str(self.client_port),
            self.server_ip,
            str(self.server_port),
            self.kind,
            str(self.reply_code),
        )


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """What to generate. The defaults give about 650k packets and 256 MB."""

    sessions: int = DEFAULT_SESSIONS
    """Number of SMTP connections (HTTP noise flows come on top)."""
    seed: int = DEFAULT_SEED
    http_packet_share: float = 0.25
    """Target share of all packets that belong to HTTP noise flows."""
    retransmit_rate: float = 0.02
    """Probability that a data segment is sent again, unchanged, later."""
    reorder_rate: float = 0.01
    """Probability that a data segment is swapped with the next one going the same way."""
    starttls_rate: float = 0.05
    """Share of SMTP sessions that switch to TLS (no cleartext AUTH)."""
    noauth_rate: float = 0.03
    """Share of SMTP sessions that deliver mail without AUTH."""
    session_gap_us: int = 15_000
    """Mean time between two SMTP session starts (exponential), in microseconds."""


@dataclass(slots=True)
class SynthResult:
    """What :func:`generate` wrote."""

    path: Path
    config: SynthConfig
    packets: int = 0
    size: int = 0
    """Size of the capture file in bytes."""
    smtp_sessions: int = 0
    http_flows: int = 0
    starttls_sessions: int = 0
    noauth_sessions: int = 0
    """SMTP sessions that send mail without AUTH (the rest of the non-TLS ones authenticate)."""
    smtp_packets: int = 0
    http_packets: int = 0
    retransmitted: int = 0
    reordered: int = 0
    duration_s: float = 0.0
    """Capture time span (last minus first timestamp), in seconds."""
    truth: list[TruthRow] = field(default_factory=list)
    tls: list[TlsRow] = field(default_factory=list)

    @property
    def truth_path(self) -> Path:
        """Where the AUTH ground truth was written."""
        return truth_path_for(self.path)

    @property
    def tls_path(self) -> Path:
        """Where the STARTTLS ground truth was written."""
        return tls_path_for(self.path)


def truth_path_for(capture: Path) -> Path:
    """The ground truth TSV that belongs to ``capture``."""
    return capture.with_name(capture.name + ".truth.tsv")


def tls_path_for(capture: Path) -> Path:
    """The STARTTLS ground truth TSV that belongs to ``capture``."""
    return capture.with_name(capture.name + ".tls.tsv")


def read_truth(path: Path) -> list[TruthRow]:
    """Load a ground truth TSV written by :func:`generate` (fields are split on tabs only)."""
    rows: list[TruthRow] = []
    with path.open(encoding="utf-8", newline="\n") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if tuple(header) != TRUTH_COLUMNS:
            raise ValueError(f"{path}: unexpected header {header!r}")
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) != len(TRUTH_COLUMNS):
                raise ValueError(f"{path}: bad row {line!r}")
            rows.append(
                TruthRow(f[0], int(f[1]), f[2], int(f[3]), f[4], f[5], f[6], f[7], int(f[8]))
            )
    return rows


def read_tls(path: Path) -> list[TlsRow]:
    """Load a STARTTLS ground truth TSV written by :func:`generate`."""
    rows: list[TlsRow] = []
    with path.open(encoding="utf-8", newline="\n") as fh:
        fh.readline()
        for line in fh:
            f = line.rstrip("\n").split("\t")
            rows.append(TlsRow(f[0], int(f[1]), f[2], int(f[3]), f[4], int(f[5])))
    return rows


# --------------------------------------------------------------------------------------------
# Crypto helpers
# --------------------------------------------------------------------------------------------


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK32


_MD4_R2: Final = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_MD4_R3: Final = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)


def md4(data: bytes) -> bytes:
    """MD4 (RFC 1320), needed for NT hashes; OpenSSL 3 no longer offers it through hashlib."""
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for off in range(0, len(padded), 64):
        x = struct.unpack_from("<16I", padded, off)
        a, b, c, d = h
        for i in range(16):
            f = (b & c) | (~b & d)
            a, b, c, d = d, _rotl((a + f + x[i]) & _MASK32, (3, 7, 11, 19)[i % 4]), b, c
        for i in range(16):
            g = (b & c) | (b & d) | (c & d)
            t = (a + g + x[_MD4_R2[i]] + 0x5A827999) & _MASK32
            a, b, c, d = d, _rotl(t, (3, 5, 9, 13)[i % 4]), b, c
        for i in range(16):
            t = (a + (b ^ c ^ d) + x[_MD4_R3[i]] + 0x6ED9EBA1) & _MASK32
            a, b, c, d = d, _rotl(t, (3, 9, 11, 15)[i % 4]), b, c
        h = [(v + w) & _MASK32 for v, w in zip(h, (a, b, c, d), strict=True)]
    return struct.pack("<4I", *h)


def _hmac_md5(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.md5).digest()


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


# --------------------------------------------------------------------------------------------
# Packets and conversations
# --------------------------------------------------------------------------------------------


class _Flow:
    """One TCP connection: builds Ethernet frames and keeps both sides' sequence numbers."""

    __slots__ = ("_addrs", "_csum", "_eth", "_ipid", "_label", "_ports", "_v6", "seq")

    def __init__(
        self,
        rng: random.Random,
        *,
        v6: bool,
        vlan: int | None,
        client: bytes,
        server: bytes,
        client_port: int,
        server_port: int,
        client_mac: bytes,
        server_mac: bytes,
    ) -> None:
        tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
        ethertype = struct.pack("!H", 0x86DD if v6 else 0x0800)
        self._eth = (
            server_mac + client_mac + tag + ethertype,
            client_mac + server_mac + tag + ethertype,
        )
        self._addrs = (client + server, server + client)
        self._ports = (
            struct.pack("!HH", client_port, server_port),
            struct.pack("!HH", server_port, client_port),
        )
        self._v6 = v6
        self.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        self._ipid = [rng.getrandbits(16), rng.getrandbits(16)]
        self._label = (rng.getrandbits(20), rng.getrandbits(20))
        base = 0x4500 + 0x4000 + (64 << 8 | 6)
        self._csum = (
            tuple(base + sum(struct.unpack("!4H", addrs)) for addrs in self._addrs)
            if not v6
            else (0, 0)
        )

    def frame(self, d: int, flags: int, payload: bytes = b"") -> bytes:
        """The next frame from side ``d`` (0 client, 1 server); advances that side's sequence."""
        seq = self.seq[d]
        ack = self.seq[1 - d] if flags & _ACK else 0
        if flags & _SYN:
            tcp = self._ports[d] + _TCP.pack(seq, ack, 24 << 2, flags, 64240, 0, 0) + _MSS_OPTION
            self.seq[d] = (seq + 1) & _MASK32
        else:
            tcp = self._ports[d] + _TCP.pack(seq, ack, 20 << 2, flags, 64240, 0, 0)
            self.seq[d] = (seq + len(payload) + (flags & _FIN)) & _MASK32
        if self._v6:
            ip = _IP6.pack(0x60000000 | self._label[d], len(tcp) + len(payload), 6, 64)
        else:
            total = 20 + len(tcp) + len(payload)
            ipid = self._ipid[d]
            self._ipid[d] = (ipid + 1) & 0xFFFF
            s = self._csum[d] + total + ipid
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            ip = _IP4.pack(0x45, 0, total, ipid, 0x4000, 64, 6, ~s & 0xFFFF)
        return b"".join((self._eth[d], ip, self._addrs[d], tcp, payload))


_Packet = tuple[int, int, bool, bytes]
"""(time in µs, direction, carries payload, frame)."""


class _Conv:
    """The packets of one connection, with timing as seen by a capture point near the server."""

    __slots__ = ("flow", "key", "packets", "rng", "rtt", "t")

    def __init__(
        self, flow: _Flow, key: tuple[str, int, str, int], t0: int, rtt: int, rng: random.Random
    ) -> None:
        self.flow = flow
        self.key = key
        self.t = t0
        self.rtt = rtt
        self.rng = rng
        self.packets: list[_Packet] = []

    def _add(self, t: int, d: int, flags: int, payload: bytes = b"") -> None:
        self.packets.append((t, d, bool(payload), self.flow.frame(d, flags, payload)))

    def handshake(self) -> None:
        """SYN, SYN-ACK, ACK."""
        self._add(self.t, _CLIENT, _SYN)
        self.t += self.rng.randint(20, 300)
        self._add(self.t, _SERVER, _SYN | _ACK)
        self.t += self.rtt
        self._add(self.t, _CLIENT, _ACK)

    def send(self, d: int, data: bytes, delay: int, splits: Sequence[int] = ()) -> None:
        """Send ``data`` from side ``d`` after ``delay`` µs, cut at ``splits`` and at the MSS.

        The receiver acknowledges every second segment of a burst with a pure ACK (right away
        for the server, one round trip later for the client).
        """
        self.t += delay
        cuts = [0, *sorted(s for s in splits if 0 < s < len(data)), len(data)]
        segments: list[bytes] = []
        for lo, hi in itertools.pairwise(cuts):
            segments.extend(data[i : min(i + MSS, hi)] for i in range(lo, hi, MSS))
        rng = self.rng
        ack_delay = 40 if d == _CLIENT else self.rtt
        last = len(segments) - 1
        for n, seg in enumerate(segments):
            if n:
                self.t += rng.randint(10, 150)
            self._add(self.t, d, _PSH | _ACK if n == last else _ACK, seg)
            if n % 2 == 1 and n != last:
                self._add(self.t + ack_delay, 1 - d, _ACK)

    def client(self, data: bytes, think: int | None = None, splits: Sequence[int] = ()) -> None:
        """The client answers the last server packet: one round trip plus thinking time later."""
        extra = think if think is not None else self.rng.randint(100, 4_000)
        self.send(_CLIENT, data, self.rtt + extra, splits)

    def server(self, data: bytes, think: int | None = None, splits: Sequence[int] = ()) -> None:
        """The server answers the last client packet after its processing time.

        A server that takes longer than the 40 ms delayed-ACK timer acknowledges first.
        """
        extra = think if think is not None else self.rng.randint(50, 2_500)
        if extra > 40_000:
            self._add(self.t + 40_000, _SERVER, _ACK)
        self.send(_SERVER, data, extra, splits)

    def close(self, first: int) -> None:
        """FIN from ``first``, FIN from the other side, last ACK."""
        other = 1 - first
        self.t += self.rng.randint(50, 2_000) if first == _SERVER else self.rtt
        self._add(self.t, first, _FIN | _ACK)
        self.t += self.rtt if first == _SERVER else self.rng.randint(50, 2_000)
        self._add(self.t, other, _FIN | _ACK)
        self.t += self.rng.randint(50, 2_000) if first == _SERVER else self.rtt
        self._add(self.t, first, _ACK)

    def impaired(
        self, rng: random.Random, retransmit_rate: float, reorder_rate: float
    ) -> tuple[list[_Packet], int, int]:
        """The packets in capture order after reordering and retransmission.

        ``rng`` is a stream of its own, so that turning the impairments off leaves every
        conversation's content and timing unchanged. Returns the packets (sorted by time), the
        number of duplicates added and the number of swaps done.
        """
        pkts = sorted(self.packets, key=lambda p: p[0])
        swaps = 0
        for d in (_CLIENT, _SERVER):
            idx = [i for i, p in enumerate(pkts) if p[2] and p[1] == d]
            j = 0
            while j < len(idx) - 1:
                a, b = idx[j], idx[j + 1]
                # Swap only when nothing from the other side lies between the two segments: the
                # receiver cannot acknowledge (or answer) bytes it has not received yet, so a real
                # capture never shows a reply before the data it answers.
                if rng.random() < reorder_rate and all(pkts[k][1] == d for k in range(a + 1, b)):
                    pa, pb = pkts[a], pkts[b]
                    pkts[a] = (pa[0], d, True, pb[3])
                    pkts[b] = (pb[0], d, True, pa[3])
                    swaps += 1
                    j += 2
                else:
                    j += 1
        end = pkts[-1][0]
        dups: list[_Packet] = []
        for p in pkts:
            if p[2] and rng.random() < retransmit_rate:
                t = p[0] + 2 * self.rtt + rng.randint(1_000, 200_000)
                t = max(p[0] + 1, min(t, end - 1))
                dups.append((t, p[1], True, p[3]))
        if dups:
            pkts.extend(dups)
            pkts.sort(key=lambda p: p[0])
        return pkts, len(dups), swaps


# --------------------------------------------------------------------------------------------
# Content pools
# --------------------------------------------------------------------------------------------

_FIRST: Final = (
    "anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo", "ines", "jonas", "karin",
    "lukas", "maria", "nils", "olga", "paul", "rosa", "sven", "tina", "uwe", "vera", "walter",
)  # fmt: skip
_LAST: Final = (
    "smith", "mueller", "garcia", "rossi", "novak", "jensen", "kowalski", "dubois", "silva",
    "tanaka", "berg", "meyer", "fischer", "weber", "wagner", "becker",
)  # fmt: skip
_MAIL_DOMAINS: Final = (
    "example.org", "example.com", "example.net", "mail.example.org", "corp.example.com",
    "shop.example.net", "uni.example.edu",
)  # fmt: skip
_NTLM_DOMAINS: Final = ("CORP", "EXAMPLE", "CONTOSO", "HQ", "Fabrikam", "lab")
_PASSWORD_CHARS: Final = string.ascii_letters + string.digits + string.punctuation
_NON_ASCII: Final = "éüßñøåçÆ€£§日本語пароль"
_WORDS: Final = (
    "the invoice for last month is attached please find the report and let me know if you have "
    "any questions regarding the meeting schedule we will discuss budget figures next week "
    "thanks regards kind best wishes project update draft version final approval shipment "
    "order delivery password reset account login username credentials support ticket"
).split()

# 334 prompts for AUTH LOGIN: (username prompt, password prompt) as sent after "334 ".
_LOGIN_PROMPTS: Final = (
    (b"VXNlcm5hbWU6", b"UGFzc3dvcmQ6"),  # Username: / Password:
    (b"dXNlcm5hbWU6", b"cGFzc3dvcmQ6"),  # username: / password:
    (b"VXNlcm5hbWU6", b"UGFzc3dvcmQ6"),
    (b"VXNlcm5hbWU=", b"UGFzc3dvcmQ="),  # Username / Password (no colon)
    (_b64(b"User Name\x00"), _b64(b"Password\x00")),
    (_b64(b"Login:"), _b64(b"Secret:")),
    (_b64(b"Benutzername:"), _b64(b"Passwort:")),
    (b"Username:", b"Password:"),  # not base64 at all
    (b"Send username", b"Send password"),
)
_SUCCESS_REPLIES: Final = (
    b"235 2.7.0 Authentication successful\r\n",
    b"235 2.7.0 Accepted\r\n",
    b"235 Authentication succeeded\r\n",
    b"235 ok, go ahead (#2.0.0)\r\n",
)
_FAILURE_REPLIES: Final = (
    b"535 5.7.8 Error: authentication failed: authentication failure\r\n",
    b"535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\r\n",
    b"535 5.7.3 Authentication unsuccessful\r\n",
    b"535 Incorrect authentication data\r\n",
    b"535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
    b"535 5.7.8  https://support.example.com/mail/?p=BadCredentials\r\n",
)
_BANNERS: Final = (
    b"220 {host} ESMTP Postfix (Debian/GNU)\r\n",
    b"220 {host} ESMTP Exim 4.96 Tue, 14 Nov 2023 22:13:20 +0000\r\n",
    b"220 {host} Microsoft ESMTP MAIL Service ready at Tue, 14 Nov 2023 22:13:20 +0000\r\n",
    b"220-{host} ESMTP\r\n220 no UCE, no spam\r\n",
)
_MECHANISMS: Final = ("LOGIN", "PLAIN", "CRAM-MD5", "NTLM", "XOAUTH2")
_MECH_WEIGHTS: Final = (30, 30, 13, 12, 15)


@dataclass(frozen=True, slots=True)
class _Account:
    email: str
    password: str
    ntlm_domain: str
    ntlm_user: str
    token: str


@dataclass(frozen=True, slots=True)
class _Host:
    ip: bytes
    text: str
    mac: bytes
    v6: bool


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Generator:
    """Builds conversations from one seeded random stream."""

    def __init__(self, config: SynthConfig) -> None:
        self.cfg = config
        self.rng = random.Random(config.seed)
        rng = self.rng
        self.accounts = [self._account(i) for i in range(max(50, config.sessions // 4))]
        self.clients4 = [self._host4(rng, f"10.{rng.randint(1, 60)}") for _ in range(3_000)]
        self.clients6 = [self._host6(rng, "2001:db8:100") for _ in range(1_000)]
        self.mail4 = [self._host4(rng, "198.51.100") for _ in range(4)]
        self.mail6 = [self._host6(rng, "2001:db8:25") for _ in range(3)]
        self.web4 = [self._host4(rng, "203.0.113") for _ in range(6)]
        self.web6 = [self._host6(rng, "2001:db8:80") for _ in range(3)]
        self.next_port = 20_000
        self.noauth = 0
        self.truth: list[TruthRow] = []
        self.tls: list[TlsRow] = []

    # -- pools -----------------------------------------------------------------------------

    @staticmethod
    def _mac(rng: random.Random) -> bytes:
        return bytes((0x02, *rng.randbytes(5)))

    def _host4(self, rng: random.Random, prefix: str) -> _Host:
        parts = prefix.count(".") + 1
        text = prefix + "".join(f".{rng.randint(1, 254)}" for _ in range(4 - parts))
        return _Host(ipaddress.IPv4Address(text).packed, text, self._mac(rng), False)

    def _host6(self, rng: random.Random, prefix: str) -> _Host:
        addr = ipaddress.IPv6Address(f"{prefix}::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}")
        return _Host(addr.packed, str(addr), self._mac(rng), True)

    def _password(self) -> str:
        rng = self.rng
        chars = rng.choices(_PASSWORD_CHARS, k=rng.randint(6, 20))
        if rng.random() < 0.15:
            chars.insert(rng.randrange(len(chars) + 1), ":")
        if rng.random() < 0.12:
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(_NON_ASCII))
        return "".join(chars)

    def _account(self, i: int) -> _Account:
        rng = self.rng
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        style = rng.random()
        if style < 0.45:
            local = f"user{rng.randint(1, 99_999)}"
        elif style < 0.75:
            local = f"{first}.{last}"
        elif style < 0.9:
            local = f"{first[0]}{last}{rng.randint(1, 99)}"
        else:
            local = f"{first}{i}"
        email = local if rng.random() < 0.08 else f"{local}@{rng.choice(_MAIL_DOMAINS)}"
        alphabet = string.ascii_letters + string.digits + "-_"
        token = "ya29." + "".join(rng.choices(alphabet, k=rng.randint(60, 160)))
        return _Account(
            email, self._password(), rng.choice(_NTLM_DOMAINS), f"{first[0]}{last}", token
        )

    def _flow(self, servers4: list[_Host], servers6: list[_Host], port: int, t0: int) -> _Conv:
        rng = self.rng
        r = rng.random()
        vlan = rng.randint(2, 4094) if r >= 0.9 else None
        v6 = r >= 0.7 and (vlan is None or rng.random() < 0.5)
        client = rng.choice(self.clients6 if v6 else self.clients4)
        server = rng.choice(servers6 if v6 else servers4)
        cport = self.next_port
        self.next_port = cport + 1 if cport < 65_000 else 1_025
        flow = _Flow(
            rng,
            v6=v6,
            vlan=vlan,
            client=client.ip,
            server=server.ip,
            client_port=cport,
            server_port=port,
            client_mac=client.mac,
            server_mac=server.mac,
        )
        key = (client.text, cport, server.text, port)
        return _Conv(flow, key, t0, rng.randint(1_000, 60_000), rng)

    # -- SMTP --------------------------------------------------------------------------------

    def smtp_session(self, t0: int) -> _Conv:
        """One SMTP connection; appends its AUTH attempts to the truth."""
        rng = self.rng
        port = rng.choices(SMTP_PORTS, weights=(30, 50, 20))[0]
        conv = self._flow(self.mail4, self.mail6, port, t0)
        key = conv.key
        host = f"mx{rng.randint(1, 9)}.{rng.choice(_MAIL_DOMAINS)}"
        conv.handshake()
        conv.server(rng.choice(_BANNERS).replace(b"{host}", host.encode()))
        helo = f"EHLO {rng.choice(['client', 'laptop', 'ws', 'printer'])}-{rng.randint(1, 999)}"
        conv.client(helo.encode() + _CRLF)
        kind = rng.random()
        starttls = kind < self.cfg.starttls_rate
        noauth = not starttls and kind < self.cfg.starttls_rate + self.cfg.noauth_rate
        offered = [m for m in _MECHANISMS if rng.random() < 0.7]
        ehlo = [host, "PIPELINING", f"SIZE {rng.choice([10, 25, 50]) * 1048576}", "ETRN"]
        if starttls or rng.random() < 0.4:
            ehlo.append("STARTTLS")
        if not noauth:
            first = rng.choices(_MECHANISMS, weights=_MECH_WEIGHTS)[0]
            if first not in offered:
                offered.append(first)
            ehlo.append("AUTH " + " ".join(offered))
            if rng.random() < 0.3:
                ehlo.append("AUTH=" + " ".join(offered))
        ehlo += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
        reply = b"".join(
            f"250{' ' if i == len(ehlo) - 1 else '-'}{line}\r\n".encode()
            for i, line in enumerate(ehlo)
        )
        split = [rng.randrange(1, len(reply))] if rng.random() < 0.1 else []
        conv.server(reply, splits=split)
        if starttls:
            self._starttls(conv)
            self.tls.append(TlsRow(*key))
            return conv
        account = rng.choice(self.accounts)
        if noauth:
            self.noauth += 1
            self._mail(conv, account.email)
        else:
            success = False
            mech = first
            for attempt in range(3):
                success = rng.random() < 0.7
                password = account.password if success else self._wrong(account.password)
                self._auth(conv, key, mech, account, password, success)
                if success or attempt == 2 or rng.random() >= 0.4:
                    break
                if rng.random() < 0.3:
                    mech = rng.choice(offered)
            if success:
                self._mail(conv, account.email)
            elif rng.random() < 0.5:
                conv.client(b"RSET\r\n")
                conv.server(b"250 2.0.0 Ok\r\n")
        conv.client(b"QUIT\r\n")
        conv.server(b"221 2.0.0 Bye\r\n")
        conv.close(_SERVER if rng.random() < 0.8 else _CLIENT)
        return conv

    def _size(self, lo: int, hi: int) -> int:
        """A size between ``lo`` and ``hi``, skewed towards the small end (median about 1.3 lo)."""
        return int(lo * (hi / lo) ** (self.rng.random() ** 4))

    def _wrong(self, password: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return password + str(rng.randint(0, 9))
        if r < 0.6 and len(password) > 1:
            return password[:-1]
        if r < 0.7:
            return password.swapcase() if password.swapcase() != password else password + "!"
        return self._password()

    def _result(self, conv: _Conv, success: bool) -> int:
        rng = self.rng
        if success:
            conv.server(rng.choice(_SUCCESS_REPLIES), think=rng.randint(500, 40_000))
            return 235
        conv.server(rng.choice(_FAILURE_REPLIES), think=rng.randint(200_000, 1_500_000))
        return 535

    def _cline(self, conv: _Conv, line: bytes) -> None:
        """A client line of the AUTH exchange, now and then cut into two segments."""
        rng = self.rng
        split = [rng.randrange(1, len(line) + 2)] if rng.random() < 0.03 else []
        conv.client(line + _CRLF, splits=split)

    def _auth(
        self,
        conv: _Conv,
        key: tuple[str, int, str, int],
        mech: str,
        account: _Account,
        password: str,
        success: bool,
    ) -> None:
        rng = self.rng
        username = account.email
        secret = password
        code: int
        if mech == "LOGIN":
            user_prompt, pass_prompt = rng.choice(_LOGIN_PROMPTS)
            user64 = _b64(username.encode())
            if rng.random() < 0.3:
                self._cline(conv, b"AUTH LOGIN " + user64)
            else:
                self._cline(conv, b"AUTH LOGIN")
                conv.server(b"334 " + user_prompt + _CRLF)
                self._cline(conv, user64)
            conv.server(b"334 " + pass_prompt + _CRLF)
            self._cline(conv, _b64(password.encode()))
            code = self._result(conv, success)
        elif mech == "PLAIN":
            r = rng.random()
            authzid = (
                ""
                if r < 0.75
                else username
                if r < 0.9
                else f"shared{rng.randint(1, 9)}@example.org"
            )
            blob = _b64(f"{authzid}\0{username}\0{password}".encode())
            if rng.random() < 0.7:
                self._cline(conv, b"AUTH PLAIN " + blob)
            else:
                self._cline(conv, b"AUTH PLAIN")
                conv.server(b"334 \r\n")
                self._cline(conv, blob)
            code = self._result(conv, success)
        elif mech == "CRAM-MD5":
            challenge = (
                f"<{rng.randint(1_000, 99_999)}.{rng.randint(10**9, 2 * 10**9)}@mx.example.net>"
            )
            chal64 = _b64(challenge.encode())
            self._cline(conv, b"AUTH CRAM-MD5")
            conv.server(b"334 " + chal64 + _CRLF)
            digest = hmac.new(password.encode(), challenge.encode(), hashlib.md5).hexdigest()
            resp64 = _b64(f"{username} {digest}".encode())
            self._cline(conv, resp64)
            code = self._result(conv, success)
            secret = f"$cram_md5${chal64.decode()}${resp64.decode()}"
        elif mech == "NTLM":
            username, secret = self._ntlm(conv, account, password)
            code = self._result(conv, success)
        else:
            blob = _b64(f"user={username}\x01auth=Bearer {account.token}\x01\x01".encode())
            if rng.random() < 0.8:
                self._cline(conv, b"AUTH XOAUTH2 " + blob)
            else:
                self._cline(conv, b"AUTH XOAUTH2")
                conv.server(b"334 \r\n")
                self._cline(conv, blob)
            secret = account.token
            if success:
                code = self._result(conv, True)
            else:
                err = b'{"status":"401","schemes":"bearer","scope":"https://mail.example.com/"}'
                conv.server(b"334 " + _b64(err) + _CRLF, think=rng.randint(20_000, 200_000))
                conv.client(_CRLF)
                code = self._result(conv, False)
        outcome = "success" if code == 235 else "failure"
        self.truth.append(TruthRow(*key, mech, username, secret, outcome, code))

    def _ntlm(self, conv: _Conv, account: _Account, password: str) -> tuple[str, str]:
        """An NTLMSSP exchange with a real NTLMv2 response; returns (username, hashcat line)."""
        rng = self.rng
        domain, user = account.ntlm_domain, account.ntlm_user
        flags = 0xE2088297
        version = bytes((10, 0)) + struct.pack("<H", 19041) + b"\x00\x00\x00\x0f"
        type1 = b"NTLMSSP\x00" + struct.pack("<II", 1, flags) + b"\x00" * 16 + version
        if rng.random() < 0.4:
            self._cline(conv, b"AUTH NTLM " + _b64(type1))
        else:
            self._cline(conv, b"AUTH NTLM")
            conv.server(b"334 \r\n")
            self._cline(conv, _b64(type1))
        server_domain = domain.upper().encode("utf-16-le")
        computer = f"MX{rng.randint(1, 99)}".encode("utf-16-le")
        dns_domain = f"{domain.lower()}.example.com".encode("utf-16-le")
        filetime = rng.randint(133_000_000_000_000_000, 134_000_000_000_000_000)
        av = (
            b"".join(
                struct.pack("<HH", av_id, len(value)) + value
                for av_id, value in (
                    (2, server_domain),
                    (1, computer),
                    (4, dns_domain),
                    (3, computer + b".\x00" + dns_domain),
                    (7, struct.pack("<Q", filetime)),
                )
            )
            + b"\x00\x00\x00\x00"
        )
        challenge = rng.randbytes(8)
        name_off = 56
        info_off = name_off + len(server_domain)
        type2 = (
            b"NTLMSSP\x00"
            + struct.pack("<IHHI", 2, len(server_domain), len(server_domain), name_off)
            + struct.pack("<I", flags)
            + challenge
            + b"\x00" * 8
            + struct.pack("<HHI", len(av), len(av), info_off)
            + version
            + server_domain
            + av
        )
        conv.server(b"334 " + _b64(type2) + _CRLF)
        client_challenge = rng.randbytes(8)
        blob = (
            b"\x01\x01\x00\x00\x00\x00\x00\x00"
            + struct.pack("<Q", filetime + rng.randint(0, 50_000_000))
            + client_challenge
            + b"\x00\x00\x00\x00"
            + av
            + b"\x00\x00\x00\x00"
        )
        nt_hash = md4(password.encode("utf-16-le"))
        v2_key = _hmac_md5(nt_hash, (user.upper() + domain).encode("utf-16-le"))
        proof = _hmac_md5(v2_key, challenge + blob)
        lm = _hmac_md5(v2_key, challenge + client_challenge) + client_challenge
        nt = proof + blob
        fields = (
            lm,
            nt,
            domain.encode("utf-16-le"),
            user.encode("utf-16-le"),
            f"WS-{rng.randint(1, 9999):04d}".encode("utf-16-le"),
            rng.randbytes(16),
        )
        offset = 88
        order = (2, 3, 4, 0, 1, 5)  # payload order: domain, user, workstation, LM, NT, key
        offsets = [0] * len(fields)
        for i in order:
            offsets[i] = offset
            offset += len(fields[i])
        type3 = (
            b"NTLMSSP\x00"
            + struct.pack("<I", 3)
            + b"".join(
                struct.pack("<HHI", len(f), len(f), o) for f, o in zip(fields, offsets, strict=True)
            )
            + struct.pack("<I", flags)
            + version
            + rng.randbytes(16)
            + b"".join(fields[i] for i in order)
        )
        self._cline(conv, _b64(type3))
        line = f"{user}::{domain}:{challenge.hex()}:{proof.hex()}:{blob.hex()}"
        return f"{domain}\\{user}", line

    def _mail(self, conv: _Conv, sender: str) -> None:
        """MAIL, RCPT and DATA with a body full of base64 and credential look-alikes."""
        rng = self.rng
        sender = sender if "@" in sender else sender + "@example.org"
        rcpts = [
            f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}@{rng.choice(_MAIL_DOMAINS)}"
            for _ in range(rng.randint(1, 3))
        ]
        body = self._body(sender, rcpts, self._size(2_000, 100_000))
        mail = f"MAIL FROM:<{sender}> SIZE={len(body)}\r\n".encode()
        rcpt = [f"RCPT TO:<{r}>\r\n".encode() for r in rcpts]
        if rng.random() < 0.4:
            conv.client(mail + b"".join(rcpt) + b"DATA\r\n")
            conv.server(
                b"250 2.1.0 Ok\r\n"
                + b"250 2.1.5 Ok\r\n" * len(rcpt)
                + b"354 End data with <CR><LF>.<CR><LF>\r\n"
            )
        else:
            conv.client(mail)
            conv.server(b"250 2.1.0 Ok\r\n")
            for line in rcpt:
                conv.client(line)
                conv.server(b"250 2.1.5 Ok\r\n")
            conv.client(b"DATA\r\n")
            conv.server(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        conv.client(body)
        queue_id = "".join(rng.choices("0123456789ABCDEF", k=10))
        conv.server(
            f"250 2.0.0 Ok: queued as {queue_id}\r\n".encode(), think=rng.randint(5_000, 60_000)
        )

    def _trap_lines(self) -> list[bytes]:
        """Body lines that look like credentials or AUTH commands (false-positive bait)."""
        rng = self.rng
        acct = rng.choice(self.accounts)
        lines = [
            _b64(acct.email.encode()),
            _b64(acct.password.encode()),
            _b64(f"\0{acct.email}\0{acct.password}".encode()),
            b"AUTH LOGIN",
            b"AUTH PLAIN " + _b64(f"\0{acct.email}\0hunter2".encode()),
            b"334 VXNlcm5hbWU6",
            b"AUTH CRAM-MD5",
            _b64(f"{acct.email} 5d41402abc4b2a76b9719d911017c592".encode()),
            b"AUTH XOAUTH2 "
            + _b64(f"user={acct.email}\x01auth=Bearer {acct.token}\x01\x01".encode()),
            b"..",  # a dot-stuffed "." line: not the end of the data
            b"..AUTH LOGIN " + _b64(acct.email.encode()),
            b"235 2.7.0 Authentication successful",
            b"QUIT",
        ]
        return rng.sample(lines, k=rng.randint(2, 6))

    def _body(self, sender: str, rcpts: list[str], size: int) -> bytes:
        rng = self.rng
        boundary = "=_" + "".join(rng.choices(string.ascii_letters + string.digits, k=24))
        head = (
            f"Received: from client (unknown [192.0.2.{rng.randint(1, 254)}])\r\n"
            f"From: <{sender}>\r\nTo: {', '.join(f'<{r}>' for r in rcpts)}\r\n"
            f"Subject: {' '.join(rng.choices(_WORDS, k=5))}\r\n"
            f"Date: Tue, 14 Nov 2023 22:{rng.randint(10, 59)}:{rng.randint(10, 59)} +0000\r\n"
            f"Message-ID: <{rng.getrandbits(64):016x}@{sender.split('@')[1]}>\r\n"
            f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        ).encode()
        text_lines = [
            " ".join(rng.choices(_WORDS, k=rng.randint(4, 14))).encode()
            for _ in range(rng.randint(3, 12))
        ]
        for trap in self._trap_lines():
            text_lines.insert(rng.randrange(len(text_lines) + 1), trap)
        text = _CRLF.join(text_lines) + _CRLF
        attach_head = (
            f"--{boundary}\r\nContent-Type: application/octet-stream; "
            f'name="file{rng.randint(1, 999)}.bin"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        tail = f"--{boundary}--\r\n.\r\n".encode()
        room = max(57, (size - len(head) - len(text) - len(attach_head) - len(tail)) * 3 // 4)
        attachment = base64.encodebytes(rng.randbytes(room)).replace(b"\n", _CRLF)
        return b"".join((head, text, attach_head, attachment, tail))

    def _tls_record(self, content_type: int, length: int) -> bytes:
        return struct.pack("!BHH", content_type, 0x0303, length) + self.rng.randbytes(length)

    def _starttls(self, conv: _Conv) -> None:
        """STARTTLS, 220, then TLS-looking records both ways and a close."""
        rng = self.rng
        conv.client(b"STARTTLS\r\n")
        conv.server(b"220 2.0.0 Ready to start TLS\r\n")
        hello = self._tls_record(0x16, rng.randint(250, 520))
        conv.client(b"\x16\x03\x01" + hello[3:])
        conv.server(self._tls_record(0x16, rng.randint(2_500, 5_500)))
        conv.client(b"\x14\x03\x03\x00\x01\x01" + self._tls_record(0x16, 80))
        conv.server(self._tls_record(0x17, rng.randint(60, 300)))
        for _ in range(rng.randint(4, 9)):
            conv.client(self._tls_record(0x17, rng.randint(30, 200)))
            conv.server(self._tls_record(0x17, rng.randint(30, 120)))
        big = self._size(2_000, 80_000)
        conv.client(
            b"".join(self._tls_record(0x17, min(16_384, big - i)) for i in range(0, big, 16_384))
        )
        conv.server(self._tls_record(0x17, rng.randint(40, 90)), think=rng.randint(5_000, 50_000))
        conv.client(self._tls_record(0x15, 26))
        conv.close(_CLIENT)

    # -- HTTP noise --------------------------------------------------------------------------

    def http_flow(self, t0: int) -> _Conv:
        """A keep-alive HTTP/1.1 connection with one to four GETs and sized responses."""
        rng = self.rng
        conv = self._flow(self.web4, self.web6, 80, t0)
        conv.handshake()
        for _ in range(rng.randint(1, 4)):
            path = "/" + "/".join(rng.choices(_WORDS, k=rng.randint(1, 3)))
            extra = ""
            if rng.random() < 0.05:
                cred = _b64(f"{rng.choice(self.accounts).email}:secret".encode()).decode()
                extra = f"Authorization: Basic {cred}\r\n"
            request = (
                f"GET {path}.html HTTP/1.1\r\nHost: www.example.com\r\n"
                f"User-Agent: Mozilla/5.0\r\nAccept: */*\r\n{extra}\r\n"
            ).encode()
            conv.client(request)
            size = self._size(200, 40_000)
            if rng.random() < 0.3:
                words = " ".join(rng.choices(_WORDS, k=size // 6 + 1)).encode()[:size]
                ctype, body = "text/html; charset=utf-8", words
            else:
                ctype, body = "image/jpeg", rng.randbytes(size)
            head = (
                f"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            conv.server(head + body, think=rng.randint(200, 20_000))
        conv.close(_CLIENT)
        return conv


def _write_tsv(path: Path, header: Sequence[str], rows: Iterator[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(header) + "\n")
        fh.writelines("\t".join(r) + "\n" for r in rows)


def generate(path: Path, config: SynthConfig | None = None) -> SynthResult:
    """Write the capture to ``path`` and its ground truth next to it; return what was written."""
    cfg = config if config is not None else SynthConfig()
    gen = _Generator(cfg)
    rng = gen.rng
    impair_rng = random.Random(cfg.seed * 2_654_435_761 + 97)
    result = SynthResult(path=path, config=cfg)
    heap: list[tuple[int, int, bytes]] = []
    order = 0
    out: list[bytes] = []
    first_t = last_t = CAPTURE_START_US
    share = cfg.http_packet_share / (1.0 - cfg.http_packet_share)

    def push(conv: _Conv) -> int:
        nonlocal order
        pkts, dups, swaps = conv.impaired(impair_rng, cfg.retransmit_rate, cfg.reorder_rate)
        result.retransmitted += dups
        result.reordered += swaps
        for t, _d, _p, frame in pkts:
            heapq.heappush(heap, (t, order, frame))
            order += 1
        return len(pkts)

    def flush(fh: BinaryIO, before: int) -> None:
        nonlocal last_t
        pack = _RECORD.pack
        while heap and heap[0][0] < before:
            t, _o, frame = heapq.heappop(heap)
            n = len(frame)
            out.append(pack(t // 1_000_000, t % 1_000_000, n, n))
            out.append(frame)
            last_t = t
            result.packets += 1
        if len(out) > 20_000:
            fh.writelines(out)
            out.clear()

    with path.open("wb") as fh:
        fh.write(_PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 262_144, 1))
        t = CAPTURE_START_US
        http_sent = smtp_sent = 0
        for _ in range(cfg.sessions):
            t += int(rng.expovariate(1.0 / cfg.session_gap_us)) + 1
            flush(fh, t)
            # The noise share is steered on packet counts before impairment, so that turning
            # the impairments off changes nothing else.
            while http_sent < share * smtp_sent:
                conv = gen.http_flow(t + rng.randint(0, cfg.session_gap_us))
                http_sent += len(conv.packets)
                result.http_packets += push(conv)
                result.http_flows += 1
            conv = gen.smtp_session(t)
            smtp_sent += len(conv.packets)
            result.smtp_packets += push(conv)
            result.smtp_sessions += 1
        flush(fh, 1 << 62)
        fh.writelines(out)
        result.size = fh.tell()
    result.duration_s = (last_t - first_t) / 1e6
    result.truth = gen.truth
    result.tls = gen.tls
    result.starttls_sessions = len(gen.tls)
    result.noauth_sessions = gen.noauth
    _write_tsv(result.truth_path, TRUTH_COLUMNS, (r.to_fields() for r in gen.truth))
    _write_tsv(result.tls_path, TLS_COLUMNS, (r.to_fields() for r in gen.tls))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate a capture and report its size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "output", type=Path, help="capture to write (truth goes to OUTPUT.truth.tsv)"
    )
    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help="SMTP sessions")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    res = generate(args.output, SynthConfig(sessions=args.sessions, seed=args.seed))
    took = time.perf_counter() - started
    mechs: dict[str, int] = {}
    for row in res.truth:
        mechs[row.mechanism] = mechs.get(row.mechanism, 0) + 1
    sys.stdout.write(
        f"{res.path}: {res.packets:,} packets, {res.size / 1e6:.1f} MB, {took:.1f} s\n"
        f"  {res.smtp_sessions:,} SMTP sessions ({res.smtp_packets:,} packets), "
        f"{res.http_flows:,} HTTP flows ({res.http_packets:,} packets)\n"
        f"  {len(res.truth):,} AUTH attempts {mechs}, {len(res.tls):,} STARTTLS sessions\n"
        f"  {res.retransmitted:,} retransmitted, {res.reordered:,} swapped segments, "
        f"capture spans {res.duration_s:.0f} s\n"
        f"  truth: {res.truth_path}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
