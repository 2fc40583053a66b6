"""VpopmailSource on arbitrary bytes: records or SourceError, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.accounts.vpopmail import VpopmailSource
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped

ASSIGN = "+fuzz.test-:fuzz.test:89:89:/home/vpopmail/domains/fuzz.test:-::\n.\n"


@st.composite
def cdb_like(draw: st.DrawFn) -> bytes:
    """A header whose tables start somewhere in (or past) the body, then arbitrary records."""
    body = draw(st.binary(max_size=1500))
    end = 2048 + draw(st.integers(0, len(body) + 16))
    return end.to_bytes(4, "little") * 512 + body


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz")
    (home / "users").mkdir()
    (home / "domains/fuzz.test").mkdir(parents=True)
    (home / "users/assign").write_text(ASSIGN)
    return home


def _only_records(home: Path) -> None:
    for record in VpopmailSource(home).collect():
        assert isinstance(record, Account | Skipped)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.one_of(st.binary(max_size=3000), cdb_like()))
def test_arbitrary_cdb_bytes(fuzz_home: Path, data: bytes) -> None:
    (fuzz_home / "domains/fuzz.test/vpasswd.cdb").write_bytes(data)
    _only_records(fuzz_home)


@settings(deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_vpasswd_and_assign_bytes(fuzz_home: Path, data: bytes) -> None:
    (fuzz_home / "domains/fuzz.test/vpasswd").write_bytes(data)
    _only_records(fuzz_home)
    (fuzz_home / "domains/fuzz.test/vpasswd").unlink()
    (fuzz_home / "users/assign").write_bytes(data)
    try:
        _only_records(fuzz_home)
    except SourceError:
        pass
    finally:
        (fuzz_home / "users/assign").write_text(ASSIGN)
