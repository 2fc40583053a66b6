"""Opening plain and compressed log files by magic bytes, and damaged ones."""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import lzma
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authaudit.errors import SourceError
from authaudit.logs.openers import LogFile, line_start_after, sniff_compression
from authaudit.model import Skipped

LINES = [b"Jan  1 00:00:%02d h postfix/smtpd[1]: line %d\n" % (i % 60, i) for i in range(10000)]
DATA = b"".join(LINES) + b"last line without newline \xff"

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "plain": lambda data: data,
    "gzip": gzip.compress,
    "bzip2": lambda data: bz2.compress(data, 1),  # 100 kB blocks, so a cut keeps some
    "xz": lzma.compress,
}


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_lines_come_back_byte_exact(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "mail.log.txt"  # the name says nothing: magic bytes decide
    path.write_bytes(COMPRESSORS[kind](DATA))
    log = LogFile(path)
    assert log.compression == kind
    lines = list(log)
    assert lines == [*LINES, b"last line without newline \xff"]
    assert log.skipped == []
    assert log.lines_read == 10001


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    path = tmp_path / "maillog.2.gz"
    path.write_bytes(gzip.compress(b"a\n") + gzip.compress(b"b\n"))
    assert list(LogFile(path)) == [b"a\n", b"b\n"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    log = LogFile(path)
    assert (log.compression, list(log), log.skipped) == ("plain", [], [])


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_truncated_file_gives_lines_before_the_damage(tmp_path: Path, kind: str) -> None:
    packed = COMPRESSORS[kind](DATA)
    path = tmp_path / "cut"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    log = LogFile(path)
    lines = list(log)
    assert lines == LINES[: len(lines)]
    assert 0 < len(lines) < len(LINES)
    assert len(log.skipped) == 1
    skipped = log.skipped[0]
    assert skipped.source == str(path)
    assert skipped.where == f"after line {len(lines)}"
    assert skipped.reason.startswith(f"{kind} data damaged or truncated")


def test_corrupt_gzip_body(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(DATA))
    packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(packed))
    log = LogFile(path)
    lines = list(log)
    # deflate has no checksum until the end: the lines before the damage are intact, and the
    # damage is reported (what it decoded to before the CRC check is not defined)
    assert lines[:100] == LINES[:100]
    assert len(log.skipped) == 1


def test_sniff() -> None:
    assert sniff_compression(b"\x1f\x8b\x08") == "gzip"
    assert sniff_compression(b"BZh91AY") == "bzip2"
    assert sniff_compression(b"\xfd7zXZ\x00\x00") == "xz"
    assert sniff_compression(b"\x28\xb5\x2f\xfd") == "zstd"
    assert sniff_compression(b"\x04\x22\x4d\x18") == "lz4"
    assert sniff_compression(b"Jan  1") == "plain"
    assert sniff_compression(b"") == "plain"


@pytest.mark.skipif(importlib.util.find_spec("zstandard") is not None,
                    reason="zstandard is installed, so zstd files open")
def test_zstd_without_the_module_is_a_clear_source_error(tmp_path: Path) -> None:
    path = tmp_path / "maillog.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(20))
    with pytest.raises(SourceError, match="zstd-compressed; install the 'zstandard' module"):
        LogFile(path)


def test_lz4_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "maillog.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(20))
    with pytest.raises(SourceError, match="lz4-compressed logs are not supported"):
        LogFile(path)


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        LogFile(tmp_path / "nope")
    assert info.value.source == str(tmp_path / "nope")


def test_context_manager_closes(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"a\nb\n")
    with LogFile(path) as log:
        assert next(iter(log)) == b"a\n"
    assert list(log) == []
    assert log.skipped == []


_MAGICS = st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"BZh9", b"\xfd7zXZ\x00",
                           b"\x28\xb5\x2f\xfd", b"\x04\x22\x4d\x18"])


@settings(max_examples=200, deadline=None)
@given(magic=_MAGICS, body=st.binary(max_size=300))
def test_fuzz_any_file_gives_lines_skipped_or_source_error(magic: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log"
        path.write_bytes(magic + body)
        try:
            log = LogFile(path)
        except SourceError:
            return
        lines = list(log)
        assert all(isinstance(line, bytes) for line in lines)
        assert all(isinstance(s, Skipped) for s in log.skipped)
        if log.compression == "plain":
            assert b"".join(lines) == magic + body


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_text_lines_and_blocks_decode_the_same_lines(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "log"
    path.write_bytes(COMPRESSORS[kind](DATA))
    want = [line.decode("utf-8", "surrogateescape") for line in LINES]
    want.append(b"last line without newline \xff".decode("utf-8", "surrogateescape"))
    log = LogFile(path)
    assert list(log.text_lines()) == want
    assert log.lines_read == 10001
    blocks = list(LogFile(path).text_blocks(size=1000))
    assert len(blocks) > 10 and all(block.endswith("\n") for block in blocks[:-1])
    assert "".join(blocks).splitlines(keepends=True) == want


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_damage_keeps_the_same_lines_in_text(tmp_path: Path, kind: str) -> None:
    packed = COMPRESSORS[kind](DATA)
    path = tmp_path / "cut"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    lines = list(LogFile(path))
    text = LogFile(path)
    decoded = "".join(text.text_blocks(size=1000))
    assert decoded.encode("utf-8", "surrogateescape") == b"".join(lines)
    assert text.skipped == [Skipped(source=str(path), where=f"after line {len(lines)}",
                                    reason=text.skipped[0].reason)]


def test_a_span_of_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(DATA)
    cut = line_start_after(path, 5000)
    assert DATA[cut - 1 : cut] == b"\n" and cut - 5000 < len(LINES[0])
    assert line_start_after(path, 0) == 0
    assert line_start_after(path, len(DATA)) == len(DATA)
    assert line_start_after(path, len(DATA) - 3) == len(DATA)  # in the last line: none after
    head = "".join(LogFile(path, span=(0, cut)).text_blocks(size=300))
    tail = "".join(LogFile(path, span=(cut, len(DATA))).text_blocks(size=300))
    assert (head + tail).encode("utf-8", "surrogateescape") == DATA
    packed = tmp_path / "log.gz"
    packed.write_bytes(gzip.compress(DATA))
    with pytest.raises(SourceError, match="only a plain file"):
        LogFile(packed, span=(0, 10))
