"""From a capture file to AUTH attempts: frames → TCP streams → SMTP sessions → records.

Theory of operation: the reader yields frames, ``decode_frame`` turns each into a TCP segment
(or a reason it is not one), the reassembler turns segments into ordered bytes per connection
side, and every connection starts in *detection*: the first bytes of each side are buffered until
:func:`~authaudit.smtp.detect.classify` says what the connection carries. SMTP connections get an
:class:`~authaudit.smtp.session.SmtpSession` oriented client/server by content (never by port);
TLS from the first byte is reported as a TLS session when it is mail (port 465/587/25/2525 or a
mail server name); everything else is dropped by the reassembler at the cost of one dict lookup
per packet.

What cannot be used is counted: frames that are not IP/TCP by reason (in ``stats``), damaged
frames, truncated files, stream gaps, conflicting retransmissions and limits (as ``Skipped``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authaudit.errors import SmtpProtocolError
from authaudit.gcpause import gc_paused
from authaudit.model import AuthAttempt, FlowKey, Skipped, TlsKind, TlsSession
from authaudit.pcap.ip import OTHER_SHARD, TRUNCATED_IP, segments
from authaudit.pcap.options import DecodeOptions
from authaudit.pcap.reader import FrameReader
from authaudit.pcap.reassembly import Reassembler
from authaudit.pcap.stream import (
    Connection,
    Side,
    StreamClosed,
    StreamData,
    StreamEvent,
    StreamGap,
)
from authaudit.smtp.detect import Kind, Verdict, classify
from authaudit.smtp.events import AuthFinished, SessionEvent, TlsStarted
from authaudit.smtp.session import Direction, SmtpSession

__all__ = ["CaptureResult", "DecodeOptions", "decode_capture", "decode_shard"]

MAIL_TLS_PORTS = frozenset({25, 465, 587, 2525})
"""Ports on which TLS from the first byte is taken to be SMTP (SMTPS)."""
_MAIL_NAME_PREFIXES = ("smtp", "mail", "mx", "submission", "relay", "out.", "outgoing")
_PROGRESS_EVERY = 4096
_DAMAGE = ("truncated", "bad ", "invalid", "malformed", "unknown link", "unsupported link")


@dataclass(slots=True)
class CaptureResult:
    """What one capture file yielded."""

    attempts: list[AuthAttempt] = field(default_factory=list)
    tls_sessions: list[TlsSession] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    stats: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True, eq=False)
class _Flow:
    """Decoder state of one connection: still detecting, or following SMTP."""

    conn: Connection
    pending: list[tuple[Side, float, bytes]] = field(default_factory=list)
    seen: list[int] = field(default_factory=lambda: [0, 0])
    session: SmtpSession | None = None
    client: Side = Side.A
    flow: FlowKey | None = None


class _Decoder:
    """One run over one capture: owns the reassembler and the per-connection state."""

    def __init__(self, path: str, options: DecodeOptions) -> None:
        self.path = path
        self.options = options
        self.result = CaptureResult()
        self.flows: dict[Connection, _Flow] = {}
        self.reassembler = Reassembler(
            max_flows=options.max_flows,
            max_buffered_per_side=options.max_buffered,
            idle_timeout=options.idle_timeout,
        )

    # -- stream events -------------------------------------------------------------------------

    def handle(self, events: Sequence[StreamEvent]) -> None:
        for ev in events:
            kind = type(ev)
            if kind is StreamData:
                self._data(ev)  # type: ignore[arg-type]
            elif kind is StreamGap:
                self._gap(ev)  # type: ignore[arg-type]
            else:
                self._closed(ev)  # type: ignore[arg-type]

    def _state(self, conn: Connection) -> _Flow:
        st = self.flows.get(conn)
        if st is None:
            st = self.flows[conn] = _Flow(conn)
            self.result.stats["tcp_connections"] += 1
        return st

    def _data(self, ev: StreamData) -> None:
        st = self.flows.get(ev.conn) or self._state(ev.conn)
        session = st.session
        if session is not None:
            try:
                session.receive_data(
                    Direction.CLIENT if ev.side is st.client else Direction.SERVER, ev.data, ev.ts
                )
            except SmtpProtocolError as exc:
                self._abandon(st, exc)
                return
            if session.has_events:
                self._drain(st)
            return
        st.pending.append((ev.side, ev.ts, ev.data))
        st.seen[ev.side] += len(ev.data)
        self._detect(st)

    def _gap(self, ev: StreamGap) -> None:
        st = self._state(ev.conn)
        self._skip(st, f"{ev.size} bytes never captured in the {self._role(st, ev.side)} stream")
        if st.session is not None:
            try:
                st.session.receive_gap(self._direction(st, ev.side), ev.size, ev.ts)
            except SmtpProtocolError as exc:
                self._abandon(st, exc)
                return
            self._drain(st)
        elif st.pending:
            # A hole before detection finished: detect on what came after it.
            st.pending = [p for p in st.pending if p[0] is not ev.side]
            st.seen[ev.side] = 0

    def _closed(self, ev: StreamClosed) -> None:
        st = self.flows.pop(ev.conn, None)
        if st is None:
            return
        conn = ev.conn
        if conn.overlaps:
            self._skip(
                st,
                f"{conn.overlaps} retransmitted segments with different content "
                "(the first copy was kept)",
            )
        if st.session is None and st.pending:
            self._detect(st, final=True)
        if st.session is not None:
            try:
                st.session.close(ev.ts)
            except SmtpProtocolError as exc:
                self._abandon(st, exc)
                return
            self._drain(st)
        reason = str(ev.reason)
        if st.session is not None and reason in {"flow limit reached", "buffer limit reached"}:
            self._skip(st, f"connection dropped: {reason}")

    # -- detection -----------------------------------------------------------------------------

    def _detect(self, st: _Flow, *, final: bool = False) -> None:
        a = b"".join(d for s, _, d in st.pending if s is Side.A)
        b = b"".join(d for s, _, d in st.pending if s is Side.B)
        verdict = classify(a, b)
        if verdict.kind is Kind.NEED_MORE:
            limit = self.options.detect_bytes
            if final or st.seen[0] > limit or st.seen[1] > limit:
                self._drop(st)
            return
        if verdict.kind is Kind.SMTP:
            self._start_smtp(st, verdict)
        elif verdict.kind is Kind.IMPLICIT_TLS:
            self._implicit_tls(st, verdict)
        else:
            self._drop(st)

    def _forget(self, st: _Flow) -> None:
        """Stop following a connection: its later packets cost one lookup in the reassembler."""
        self.flows.pop(st.conn, None)
        self.reassembler.ignore(st.conn)

    def _abandon(self, st: _Flow, exc: SmtpProtocolError) -> None:
        """Stop following a stream that broke SMTP; what it gave so far is kept."""
        if st.session is not None:
            self._drain(st)
        self._skip(st, f"stopped following SMTP: {exc}")
        self._forget(st)

    def _drop(self, st: _Flow) -> None:
        self.result.stats["non_smtp_connections"] += 1
        st.pending.clear()
        self._forget(st)

    def _orient(self, st: _Flow, client_is_a: bool | None) -> None:
        conn = st.conn
        if client_is_a is None:
            client_is_a = True
        st.client = Side.A if client_is_a else Side.B
        cip, cport = conn.endpoint(st.client)
        sip, sport = conn.endpoint(st.client.other)
        st.flow = FlowKey(client_ip=cip, client_port=cport, server_ip=sip, server_port=sport)

    def _start_smtp(self, st: _Flow, verdict: Verdict) -> None:
        self._orient(st, verdict.client_is_a)
        skips = (verdict.skip_a, verdict.skip_b)
        skip_client, skip_server = skips if st.client is Side.A else skips[::-1]
        st.session = SmtpSession(
            max_line=self.options.max_line,
            max_buffered=self.options.max_buffered,
            greeting=not verdict.mid_session,
            client_skip=skip_client,
            server_skip=skip_server,
        )
        self.result.stats["smtp_sessions"] += 1
        if verdict.tunnel:
            self.result.stats[f"smtp_in_{verdict.tunnel}"] += 1
        pending, st.pending = st.pending, []
        try:
            for side, ts, data in pending:
                st.session.receive_data(self._direction(st, side), data, ts)
        except SmtpProtocolError as exc:
            self._abandon(st, exc)
            return
        self._drain(st)

    def _implicit_tls(self, st: _Flow, verdict: Verdict) -> None:
        self._orient(st, verdict.client_is_a)
        assert st.flow is not None
        sni = verdict.sni
        if st.flow.server_port in MAIL_TLS_PORTS or _mail_name(sni):
            ts = next((t for s, t, _ in st.pending if s is st.client), st.conn.first_seen)
            self.result.tls_sessions.append(
                TlsSession(
                    capture=self.path, time=_utc(ts), flow=st.flow, kind=TlsKind.IMPLICIT, sni=sni
                )
            )
        else:
            self.result.stats["other_tls_connections"] += 1
        st.pending.clear()
        self._forget(st)

    # -- session events ------------------------------------------------------------------------

    def _drain(self, st: _Flow) -> None:
        session = st.session
        assert session is not None and st.flow is not None
        while (event := session.next_event()) is not None:
            self._event(st, st.flow, event)

    def _event(self, st: _Flow, flow: FlowKey, event: SessionEvent) -> None:
        if isinstance(event, AuthFinished):
            self.result.attempts.append(
                AuthAttempt(
                    capture=self.path,
                    time=_utc(event.ts),
                    flow=flow,
                    mechanism=event.mechanism,
                    username=event.username,
                    authzid=event.authzid,
                    secret=event.secret,
                    outcome=event.outcome,
                    reply_code=event.reply_code,
                    reply_text=event.reply_text,
                    tls=event.tls,
                    flags=event.flags,
                )
            )
        elif isinstance(event, TlsStarted):
            self.result.tls_sessions.append(
                TlsSession(
                    capture=self.path,
                    time=_utc(event.ts),
                    flow=flow,
                    kind=TlsKind.STARTTLS,
                    reply_code=event.reply_code,
                    reply_text=event.reply_text,
                    sni=event.sni,
                    cleartext_after=event.cleartext_after,
                )
            )
            if not event.cleartext_after:
                self._forget(st)
        elif event.skipped:
            self._skip(st, event.reason)
        else:
            self.result.stats["session_notes"] += 1

    # -- helpers -------------------------------------------------------------------------------

    def _direction(self, st: _Flow, side: Side) -> Direction:
        return Direction.CLIENT if side is st.client else Direction.SERVER

    def _role(self, st: _Flow, side: Side) -> str:
        if st.flow is None:
            host, port = st.conn.endpoint(side)
            return f"{host}:{port}"
        return "client" if side is st.client else "server"

    def _skip(self, st: _Flow, reason: str) -> None:
        if st.flow is not None:
            where = str(st.flow)
        else:
            a, b = st.conn.endpoint(Side.A), st.conn.endpoint(Side.B)
            where = f"{a[0]}:{a[1]} <-> {b[0]}:{b[1]}"
        self.result.skipped.append(Skipped(source=self.path, where=f"TCP {where}", reason=reason))


def _mail_name(sni: str | None) -> bool:
    return bool(sni) and sni.lower().startswith(_MAIL_NAME_PREFIXES)  # type: ignore[union-attr]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def decode_capture(
    path: str,
    options: DecodeOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CaptureResult:
    """Every AUTH attempt and TLS session in the capture at ``path``.

    Raises :class:`~authaudit.errors.CaptureError` when the file cannot be read as a capture at
    all; damage further in (a truncated last record, corrupt blocks) ends reading there and is
    reported as ``Skipped`` with everything found before it.
    """
    options = options or DecodeOptions()
    if options.jobs > 1 and _size(path) >= options.shard_min_bytes:
        from authaudit.pcap.shards import decode_sharded

        return decode_sharded(path, options, progress=progress)
    return decode_shard(path, options, progress)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # the reader reports the problem


def decode_shard(
    path: str,
    options: DecodeOptions,
    progress: Callable[[int, int], None] | None = None,
    shard: tuple[int, int] = (0, 1),
) -> CaptureResult:
    """Decode the connections of one shard: those whose ``(sport ^ dport) % count == index``.

    Only shard 0 counts packets and reports packet-level damage, so that the shards' results add
    up to the single-process result."""
    index = shard[0]
    dec = _Decoder(path, options)
    stats = dec.result.stats
    not_tcp: Counter[str] = Counter()
    total = os.path.getsize(path) if progress is not None else 0
    reader = FrameReader(path)
    reassembler = dec.reassembler  # methods are not bound to locals: compiled, a direct call
    segs = 0
    last_ts = 0.0
    with reader, gc_paused():  # see gcpause.py: the loop makes no reference cycles
        # another shard's connections are left out before their segments are built; the XOR of
        # the ports is the same in both directions
        for seg in segments(reader, not_tcp, shard):
            segs += 1
            events = reassembler.feed(seg)
            if events:
                dec.handle(events)
            if progress is not None and not segs % _PROGRESS_EVERY:
                progress(reader.position, total)
            last_ts = seg.ts
        dec.handle(reassembler.close_all(last_ts))
    if progress is not None:
        progress(total, total)
    if index:
        dec.result.attempts.sort(key=lambda a: a.time)
        dec.result.tls_sessions.sort(key=lambda t: t.time)
        return dec.result
    packets = segs + sum(not_tcp.values())
    stats["packets"] = packets
    for reason, n in sorted(not_tcp.items()):
        if reason == OTHER_SHARD:
            continue
        if reason.startswith(_DAMAGE) or reason == TRUNCATED_IP:
            dec.result.skipped.append(Skipped(source=path, where="packets", reason=reason, count=n))
        else:
            stats["ignored_packets"] += n
    dec.result.skipped.extend(reader.skipped)
    dec.result.attempts.sort(key=lambda a: a.time)
    dec.result.tls_sessions.sort(key=lambda t: t.time)
    return dec.result
