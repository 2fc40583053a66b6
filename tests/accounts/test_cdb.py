"""The read-only cdb reader: real cdb files, a test writer, damaged and arbitrary bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.cdb import HEADER_SIZE, CdbError, iter_records, read_cdb, records_end

DATA = Path(__file__).parent / "data" / "vpopmail"

REFERENCE_RECORDS = [
    (
        b"alice",
        b"$1$J2cKQ9EG$Oemx4dQDxyhd1dgl56y7l1:1:0:Alice:"
        b"/home/vpopmail/domains/example.com/alice:NOQUOTA:admin",
    ),
    (b"bob", b"AbiaWJmXaz/Eg:1:2049:bob:/home/vpopmail/domains/example.com/0/bob:NOQUOTA:sum:mer"),
    (b"empty", b""),
    (b"bob", b"second record with the same key"),
]
"""What ``tinycdb-reference.cdb`` holds; that file was made by tinycdb 0.78 (``cdb -c``)."""


def cdb_hash(key: bytes) -> int:
    """cdb's hash: h = 5381; h = ((h << 5) + h) ^ byte, modulo 2**32."""
    h = 5381
    for byte in key:
        h = (((h << 5) + h) & 0xFFFFFFFF) ^ byte
    return h


def make_cdb(records: list[tuple[bytes, bytes]]) -> bytes:
    """A cdb file as cdbmake writes it: header, records, 256 hash tables (twice as many slots
    as entries, linear probing from (hash >> 8) % slots)."""
    body = bytearray()
    buckets: list[list[tuple[int, int]]] = [[] for _ in range(256)]
    for key, value in records:
        h = cdb_hash(key)
        buckets[h & 0xFF].append((h, HEADER_SIZE + len(body)))
        body += struct.pack("<II", len(key), len(value)) + key + value
    header = bytearray()
    tables = bytearray()
    for bucket in buckets:
        slots = [(0, 0)] * (2 * len(bucket))
        for h, pos in bucket:
            i = (h >> 8) % len(slots)
            while slots[i][1]:
                i = (i + 1) % len(slots)
            slots[i] = (h, pos)
        header += struct.pack("<II", HEADER_SIZE + len(body) + len(tables), len(slots))
        for slot in slots:
            tables += struct.pack("<II", *slot)
    return bytes(header + body + tables)


def test_reads_a_file_made_by_tinycdb() -> None:
    data = read_cdb(DATA / "tinycdb-reference.cdb")
    assert list(iter_records(data)) == REFERENCE_RECORDS


def test_test_writer_matches_tinycdb_byte_for_byte() -> None:
    assert make_cdb(REFERENCE_RECORDS) == (DATA / "tinycdb-reference.cdb").read_bytes()


def test_empty_database() -> None:
    data = make_cdb([])
    assert len(data) == HEADER_SIZE
    assert records_end(data) == HEADER_SIZE
    assert list(iter_records(data)) == []


def test_binary_keys_and_values_round_trip() -> None:
    records = [(bytes([i]) * i, bytes(range(i))) for i in range(1, 40)]
    assert list(iter_records(make_cdb(records))) == records


def test_shorter_than_header() -> None:
    with pytest.raises(CdbError, match="shorter than the 2048-byte header"):
        list(iter_records(b"\0" * 100))


def test_header_pointing_outside_the_file() -> None:
    data = bytearray(make_cdb([(b"k", b"v")]))
    data[0:4] = struct.pack("<I", 10**6)
    data[8:] = struct.pack("<I", 10**6) * ((len(data) - 8) // 4)
    with pytest.raises(CdbError, match="outside the file"):
        list(iter_records(bytes(data)))


def test_records_before_damage_are_yielded() -> None:
    data = bytearray(make_cdb([(b"first", b"1"), (b"second", b"2")]))
    second = HEADER_SIZE + 8 + len(b"first1")
    data[second : second + 4] = struct.pack("<I", 5000)  # key length past the records area
    records = iter_records(bytes(data))
    assert next(records) == (b"first", b"1")
    with pytest.raises(CdbError) as caught:
        next(records)
    assert caught.value.offset == second
    assert "runs past the records area" in caught.value.reason


def test_truncated_record_header() -> None:
    data = bytearray(make_cdb([(b"a", b"b")]))
    end = HEADER_SIZE + 4
    data[0:4] = struct.pack("<I", end)  # records area holds half a record header
    with pytest.raises(CdbError, match="truncated record header"):
        list(iter_records(bytes(data)))


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.cdb"
    path.write_bytes(make_cdb([(b"k", b"x" * 100)]))
    with pytest.raises(CdbError, match="larger than 2100 bytes"):
        read_cdb(path, max_size=2100)


@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_records_or_cdb_error(data: bytes) -> None:
    try:
        for key, value in iter_records(data):
            assert isinstance(key, bytes)
            assert isinstance(value, bytes)
    except CdbError:
        pass


@given(st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=60)), max_size=20))
def test_any_records_round_trip(records: list[tuple[bytes, bytes]]) -> None:
    assert list(iter_records(make_cdb(records))) == records


CDBONLY_RECORDS = [
    (
        b"gina",
        b"$6$Gg4hJk8l$lrzgwAWWrowKnkUdMdSnOIxl7RmiLhYKkCWgswZQw.ZCCugqxQNLoBdBTVOQfbwLiZVCepmvk81Q5vbLG4qR./"
        b":1:0:Gina:/home/vpopmail/domains/cdbonly.test/gina:NOQUOTA:password",
    ),
    (
        b"henry",
        b"$1$Hh1jKl2m$1yoFTCWkX113/XuvfFAjZ/:1:2048:Henry:/home/vpopmail/domains/cdbonly.test/henry"
        b":NOQUOTA",
    ),
]
"""The vpasswd lines (key = name, value = the rest) of the fixture domain that has only a cdb."""


def test_cdb_only_fixture_domain_is_what_the_writer_makes() -> None:
    path = DATA / "home" / "domains" / "cdbonly.test" / "vpasswd.cdb"
    assert path.read_bytes() == make_cdb(CDBONLY_RECORDS)
