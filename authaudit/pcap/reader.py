"""The packet records of a capture file: pcap or pcapng, plain or gzip-compressed.

``iter_frames(path)`` returns a :class:`FrameReader`, an iterator of :class:`Frame` that opens and
checks the file at once (so a file that is no capture fails with :class:`CaptureError` before the
first frame) and collects damage it meets later in ``reader.skipped``.

How the formats are read:

* **classic pcap** (both byte orders, µs and ns timestamps, the 24-byte-record "Kuznetsov"
  variant) is parsed here with ``struct`` over 1 MiB chunks. scapy's ``RawPcapReader`` plus a
  Frame costs about 2.3 µs per frame (two reads and a namedtuple per record) against 0.6-1.1 µs
  here, and it silently hands back a short last record as if it were whole.
* **pcapng** uses scapy's ``RawPcapNgReader`` for section headers (byte order), interface
  descriptions (options, ``if_tsresol`` in powers of 2 or 10) and obsolete packet blocks. The
  block framing is ours, to work around what scapy 2.8 gets wrong (each checked): a truncated or
  damaged block ends its iteration like a clean end of file; interfaces are not renumbered from 0
  in a new section; a simple packet block on an interface with snaplen 0 ("no limit") comes out
  empty; frames over 65,535 bytes are cut; ``if_tsoffset`` is ignored; a decryption secrets block
  may change global scapy settings (we skip those blocks). Enhanced packet blocks, nearly every
  block of a file, have a fixed layout and are read here: scapy's parser for them costs ~1.7 µs
  per packet decoding options we do not use (2.4 µs per frame in all, against scapy's 3.1).
* **gzip**, detected by its magic bytes (not by the name), is inflated member by member here, so a
  cut or corrupt gzip stream still yields every frame before the damage.

scapy reports problems as ``logging`` warnings on ``scapy.runtime``; those about capture files are
re-logged at DEBUG on this module's logger (never printed) and reported as ``Skipped`` records.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Generator, Iterator
from typing import IO, NamedTuple

from authaudit.errors import CaptureError
from authaudit.model import Skipped
from authaudit.pcap._gunzip import GZIP_MAGIC, Gunzip
from authaudit.pcap._pcapng import MAX_RECORD, PCAPNG_MAGIC, Damage, PcapNgBlocks, open_pcapng

__all__ = ["Frame", "FrameReader", "iter_frames"]

_CHUNK = 1 << 20

_CLASSIC = {  # magic -> (byte order, timestamp fractions per second, record header length)
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
}


class Frame(NamedTuple):
    """One captured packet as stored in the file, before any decoding."""

    number: int
    """Position of the packet record in the file, from 1 (Wireshark's frame number)."""
    ts: float
    """Capture time, seconds since the epoch (UTC)."""
    linktype: int
    """LINKTYPE_* value of the packet's interface (1 = Ethernet, 113 = Linux SLL ...)."""
    data: bytes
    """Captured bytes (possibly fewer than were on the wire)."""
    interface: int
    """pcapng interface id within its section; 0 for classic pcap."""


def iter_frames(path: str) -> FrameReader:
    """The frames of the capture at ``path``; see :class:`FrameReader`."""
    return FrameReader(path)


class FrameReader:
    """The packets of one capture file, in file order, plus a report of any damage.

    Raises :class:`CaptureError` at once when the file cannot be opened or is not a pcap or
    pcapng file (plain or gzip). Damage found while iterating (a truncated last record, a corrupt
    block or gzip stream, a packet on an undescribed interface) ends or skips records and is
    recorded in :attr:`skipped`; iteration itself never raises for bad content.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.skipped: list[Skipped] = []
        """Damage met so far; complete once iteration has ended."""
        self.compressed = False
        """True when the file is gzip-compressed."""
        self.format = ""
        """``pcap`` or ``pcapng``."""
        self.linktype: int | None = None
        """The file's link type (classic pcap); pcapng gives one per interface, in each Frame."""
        self._frames: Generator[Frame, None, None]
        self._raw: IO[bytes] | None = None
        self._gunzip: Gunzip | None
        # Both from one call: set to None here and then by _open, the attribute would stay
        # narrowed to None in this method (compiled code checks that type at run time).
        self._stream, self._gunzip = self._open()
        try:
            magic = self._stream.read(4)
            if self._gunzip is not None and self._gunzip.damage and len(magic) < 4:
                raise CaptureError(self.path, f"gzip-compressed, but {self._gunzip.damage}")
            if magic in _CLASSIC:
                self.format = "pcap"
                self._frames = self._classic(*self._classic_header(magic))
            elif magic == PCAPNG_MAGIC:
                self.format = "pcapng"
                self._frames = self._pcapng(open_pcapng(self.path, self._stream, magic))
            else:
                prefix = "gzip-compressed, but " if self.compressed else ""
                if not magic:
                    raise CaptureError(self.path, f"{prefix}empty file")
                raise CaptureError(
                    self.path, f"{prefix}not a pcap or pcapng file (magic 0x{magic.hex()})"
                )
        except BaseException:
            self._stream.close()
            raise

    def _open(self) -> tuple[io.BufferedReader, Gunzip | None]:
        try:
            raw = open(self.path, "rb")  # closed by the frame generator or close()
        except OSError as exc:
            raise CaptureError(self.path, f"cannot open: {exc.strerror or exc}") from exc
        try:
            head = raw.peek(2)[:2]
        except OSError as exc:
            raw.close()
            raise CaptureError(self.path, f"cannot read: {exc.strerror or exc}") from exc
        self._raw = raw
        if head != GZIP_MAGIC:
            return raw, None
        self.compressed = True
        gunzip = Gunzip(raw)
        return io.BufferedReader(gunzip, 1 << 16), gunzip

    def _classic_header(self, magic: bytes) -> tuple[str, int, int, int, int]:
        order, scale, record_len = _CLASSIC[magic]
        header = self._stream.read(20)
        if len(header) < 20:
            raise CaptureError(self.path, "truncated pcap file header")
        _major, _minor, _zone, _sigfigs, snaplen, linktype = struct.unpack(order + "HHiIII", header)
        self.linktype = linktype & 0x03FFFFFF  # the upper bits flag an FCS length
        limit = min(max(snaplen, 262144), MAX_RECORD)
        return order, scale, record_len, self.linktype, limit

    @property
    def position(self) -> int:
        """Bytes of the file consumed so far (compressed bytes for gzip), for progress reports."""
        try:
            return self._raw.tell() if self._raw is not None else 0
        except (OSError, ValueError):
            return 0

    # --- iteration -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def __next__(self) -> Frame:
        return next(self._frames)

    def close(self) -> None:
        """Stop reading and release the file (iteration to the end does this too)."""
        self._frames.close()
        self._stream.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _report(self, where: str, reason: str) -> None:
        if self._gunzip is not None and self._gunzip.damage:
            reason = f"{self._gunzip.damage}: {reason}"
            self._gunzip.damage = None
        self.skipped.append(Skipped(source=self.path, where=where, reason=reason))

    def _finish(self) -> None:
        if self._gunzip is not None and self._gunzip.damage:
            self.skipped.append(Skipped(source=self.path, where="end of file",
                                        reason=self._gunzip.damage))
        self._stream.close()

    def _classic(
        self, order: str, scale: int, hlen: int, linktype: int, limit: int
    ) -> Generator[Frame, None, None]:
        unpack_from = struct.Struct(order + "IIII").unpack_from
        read = self._stream.read
        new = tuple.__new__
        buf = b""
        pos = number = 0
        base = 24  # file offset of buf[0]
        try:
            while chunk := read(_CHUNK):
                base += pos
                buf = buf[pos:] + chunk if pos < len(buf) else chunk
                pos = 0
                end = len(buf)
                while pos + hlen <= end:
                    sec, frac, caplen, _wirelen = unpack_from(buf, pos)
                    nxt = pos + hlen + caplen
                    if nxt > end:
                        if caplen > limit:
                            self._report(
                                f"packet {number + 1} (offset {base + pos})",
                                f"implausible record length {caplen}; the rest of the file is "
                                "damaged and was not read",
                            )
                            return
                        break
                    number += 1
                    yield new(Frame, (number, sec + frac / scale, linktype, buf[pos + hlen : nxt],
                                      0))
                    pos = nxt
            rest = len(buf) - pos
            if rest:
                where = f"packet {number + 1} (offset {base + pos})"
                if rest < hlen:
                    what = f"the file ends {rest} bytes into a {hlen}-byte record header"
                else:
                    (caplen,) = struct.unpack_from(order + "I", buf, pos + 8)
                    what = f"the file ends {rest} bytes into a record of {hlen + caplen} bytes"
                self._report(where, f"truncated record: {what}")
        except OSError as exc:
            self._report(f"packet {number + 1}", f"read error: {exc.strerror or exc}")
        finally:
            self._finish()

    def _pcapng(self, blocks: PcapNgBlocks) -> Generator[Frame, None, None]:
        new = tuple.__new__
        problems: dict[str, tuple[str, int]] = {}  # reason -> (first place, count)
        try:
            while True:
                try:
                    frame = blocks.next_frame()
                except Damage as dmg:
                    where = dmg.where or f"packet {blocks.number + 1} (offset {blocks.offset})"
                    if dmg.fatal:
                        self._report(where, dmg.reason)
                        return
                    first, count = problems.get(dmg.reason, (where, 0))
                    problems[dmg.reason] = (first, count + 1)
                    continue
                if frame is None:
                    return
                yield new(Frame, frame)
        except OSError as exc:
            self._report(f"packet {blocks.number + 1}", f"read error: {exc.strerror or exc}")
        finally:
            for reason, (where, count) in problems.items():
                self.skipped.append(Skipped(source=self.path, where=where, reason=reason,
                                            count=count))
            self._finish()
