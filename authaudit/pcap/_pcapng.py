"""pcapng block framing around scapy's ``RawPcapNgReader`` (see :mod:`authaudit.pcap.reader`)."""

from __future__ import annotations

import io
import logging
import struct
from typing import IO, Any

from authaudit.errors import CaptureError

__all__ = ["MAX_RECORD", "PCAPNG_MAGIC", "Damage", "PcapNgBlocks", "open_pcapng"]

_log = logging.getLogger("authaudit.pcap.reader")

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
MAX_RECORD = 1 << 24
"""Largest record or block accepted (libpcap's own limit is 16 MiB); anything larger is damage."""


class _ScapyCaptureWarnings(logging.Filter):
    """Turns scapy's capture-file warnings into DEBUG records of ours (we report damage)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(("Pcap", "more Pcap")):
            _log.debug("scapy: %s", record.getMessage())
            return False
        return True


def _route_scapy_warnings() -> None:
    logger = logging.getLogger("scapy.runtime")
    if not any(isinstance(f, _ScapyCaptureWarnings) for f in logger.filters):
        # First in line, so scapy's rate limiter (which walks the stack) never sees these.
        logger.filters.insert(0, _ScapyCaptureWarnings())


def _scapy_errors() -> tuple[type[Exception], ...]:
    """What scapy's pcapng parsers raise on damage (scapy is imported on first use: a classic
    pcap never needs it, and importing it costs ~30 MB per process)."""
    from scapy.error import Scapy_Exception

    _route_scapy_warnings()
    return (Scapy_Exception, EOFError, struct.error, ValueError)


def open_pcapng(path: str, stream: io.BufferedReader, magic: bytes) -> PcapNgBlocks:
    """scapy's reader on ``stream`` (positioned after the magic), its first SHB read."""
    peeked = stream.peek(8)[:8]
    order = "<" if peeked[4:8] == b"\x4d\x3c\x2b\x1a" else ">"
    shb_length = struct.unpack(order + "I", peeked[:4])[0] if len(peeked) == 8 else 0
    errors: tuple[type[Exception], ...] = (*_scapy_errors(), OSError)
    from scapy.utils import RawPcapNgReader

    reader = object.__new__(RawPcapNgReader)
    try:
        RawPcapNgReader.__init__(reader, path, stream, magic)
    except errors as exc:
        raise CaptureError(path, f"damaged pcapng section header block ({exc})") from exc
    return PcapNgBlocks(reader, shb_length, stream)


class Damage(Exception):
    """Damage met while reading; ``fatal`` means nothing after it can be trusted."""

    def __init__(self, reason: str, *, fatal: bool = True, where: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal
        self.where = where


class _Prefixed:
    """A stream with some bytes already read put back in front (for scapy's SHB parser)."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int) -> bytes:
        head, self._head = self._head[:size], self._head[size:]
        return head + self._stream.read(size - len(head)) if size > len(head) else head


_BIG = 1 << 32  # "no size limit" for scapy's block parsers (their default cuts at 65,535 bytes)


class PcapNgBlocks:
    """pcapng block framing, with scapy parsing section headers, interfaces and old packet blocks.

    Enhanced packet blocks (nearly every block of a real file) have a fixed layout and are read
    here directly: scapy's parser for them costs ~1.7 µs per packet to decode options we do not
    use. Packet numbers count every packet block, including skipped ones.
    """

    def __init__(self, ng: Any, offset: int, stream: IO[bytes]) -> None:
        self.ng = ng
        self.stream = stream
        self.number = 0
        self.offset = offset  # file offset (after inflating) of the next block
        self.last_ts = 0.0
        self.ifaces: list[tuple[int, int, int, int]] = []  # linktype, snaplen, tsresol, tsoffset
        self._set_order()

    def _set_order(self) -> None:
        order = self.ng.endian
        self._head = struct.Struct(order + "II").unpack
        self._epb = struct.Struct(order + "IIII").unpack_from

    def next_frame(self) -> tuple[int, float, int, bytes, int] | None:
        """The next packet as Frame fields; None at a clean end of file; raises Damage."""
        read = self.stream.read
        while True:
            head = read(8)
            if len(head) < 8:
                if head:
                    raise Damage(f"truncated block: the file ends {len(head)} bytes into a "
                                 "block header")
                return None
            if head[:4] == PCAPNG_MAGIC:
                self._section(head)
                continue
            kind, length = self._head(head)
            if length < 12 or length % 4 or length > MAX_RECORD:
                raise Damage(f"invalid pcapng block length {length}; the rest of the file "
                             "was not read")
            body = read(length - 8)
            if len(body) < length - 8:
                raise Damage(f"truncated block: the file ends {len(head) + len(body)} bytes "
                             f"into a block of {length} bytes")
            if body[-4:] != head[4:]:
                raise Damage("pcapng block length and trailer disagree; the rest of the file "
                             "was not read")
            start = self.offset
            self.offset += length
            if kind == 6 and length >= 32:
                self.number += 1
                intid, high, low, caplen = self._epb(body)
                if intid < len(self.ifaces) and caplen <= length - 32:
                    linktype, _snaplen, tsresol, tsoffset = self.ifaces[intid]
                    ts = self.last_ts = ((high << 32) | low) / tsresol + tsoffset
                    return (self.number, ts, linktype, body[20 : 20 + caplen], intid)
                return self._packet(kind, body[:-4], start)
            if kind in (2, 3, 6):
                self.number += 1
                return self._packet(kind, body[:-4], start)
            if kind == 1:
                self._interface(body[:-4])

    def _section(self, head: bytes) -> None:
        ng = self.ng
        ng.f = _Prefixed(head[4:], self.stream)
        ng.interfaces = []
        self.ifaces = []
        try:
            ng._read_block_shb()
        except _scapy_errors() as exc:
            raise Damage(f"damaged section header block ({exc}); the rest of the file was "
                         "not read") from exc
        finally:
            ng.f = self.stream
        self._set_order()
        self.offset += self._head(head)[1]

    def _interface(self, body: bytes) -> None:
        ng = self.ng
        try:
            ng._read_block_idb(body, _BIG)
            linktype, snaplen, opts = ng.interfaces[-1]
            raw_offset = ng._read_options(body[8:]).get(14)
        except (EOFError, struct.error, ValueError, IndexError) as exc:
            raise Damage("damaged interface description block; the rest of the file was "
                         "not read") from exc
        tsoffset = 0
        if isinstance(raw_offset, bytes) and len(raw_offset) == 8:
            tsoffset = int.from_bytes(raw_offset, "big" if ng.endian == ">" else "little",
                                      signed=True)
        self.ifaces.append((linktype, snaplen, opts["tsresol"], tsoffset))

    def _packet(self, kind: int, body: bytes, start: int) -> tuple[int, float, int, bytes, int]:
        """Packet blocks off the fast path: simple and obsolete blocks, and damaged ones."""
        ng = self.ng
        where = f"packet {self.number} (offset {start})"
        if kind == 3:  # simple packet block: interface 0, no timestamp
            if not self.ifaces or len(body) < 4:
                raise Damage("simple packet block without an interface description",
                             fatal=False, where=where)
            (wirelen,) = struct.unpack(ng.endian + "I", body[:4])
            caplen = min(wirelen, len(body) - 4)
            if self.ifaces[0][1]:
                caplen = min(caplen, self.ifaces[0][1])
            return (self.number, self.last_ts, self.ifaces[0][0], body[4 : 4 + caplen], 0)
        if len(body) < 20:
            raise Damage("packet block too short", fatal=False, where=where)
        if kind == 6:
            intid, caplen = struct.unpack(ng.endian + "I8xI", body[:16])
        else:
            intid, caplen = struct.unpack(ng.endian + "H10xI", body[:16])
        if intid >= len(self.ifaces):
            raise Damage("packet block names an undescribed interface", fatal=False,
                         where=f"{where}, interface {intid}")
        if kind == 6 or caplen > len(body) - 20:  # a whole EPB never comes here
            raise Damage("packet block shorter than its captured length", fatal=False,
                         where=where)
        try:
            data, meta = ng._read_block_pkt(body, _BIG)
        except (EOFError, struct.error, ValueError, TypeError) as exc:
            raise Damage("damaged packet block", fatal=False, where=where) from exc
        linktype, _snaplen, tsresol, tsoffset = self.ifaces[intid]
        ts = self.last_ts = ((meta.tshigh << 32) | meta.tslow) / tsresol + tsoffset
        return (self.number, ts, linktype, data, intid)
