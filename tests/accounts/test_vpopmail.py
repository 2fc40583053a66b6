"""VpopmailSource against a copy of a server's ~vpopmail (tests/accounts/data/vpopmail/home).

The tree is copied to a temporary directory for each test, where the lastauth mtimes are set
(git keeps no mtimes) and the unreadable cases are made: a directory where a file is expected
fails to read for root too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from authaudit.accounts.vpopmail import VpopmailSource
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

TREE = Path(__file__).parent / "data" / "vpopmail" / "home"

LASTAUTH_TIMES = {
    "domains/example.com/test/lastauth": datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC),
    "domains/example.com/alice/lastauth": datetime(2026, 10, 1, 8, 0, 0, tzinfo=UTC),
    "domains/example.com/bob/lastauth": datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC),
    "domains/example.org/0/carol/lastauth": datetime(2026, 9, 15, 12, 0, 0, tzinfo=UTC),
    "domains/0/example.net/frank/lastauth": datetime(2026, 8, 8, 8, 8, 8, tzinfo=UTC),
    "domains/cdbonly.test/gina/lastauth": datetime(2026, 7, 7, 7, 7, 7, tzinfo=UTC),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh copy of the fixture home with exact lastauth mtimes and two unreadable files."""
    home = tmp_path / "vpopmail"
    shutil.copytree(TREE, home)
    for rel, when in LASTAUTH_TIMES.items():
        os.utime(home / rel, (when.timestamp(), when.timestamp()))
    (home / "domains/example.org/0/erin/lastauth").mkdir()
    (home / "domains/broken.test/vpasswd").mkdir()
    return home


def collect(home: Path, **kwargs: object) -> list[Account | Skipped]:
    source = VpopmailSource(home, **kwargs)  # type: ignore[arg-type]
    return list(source.collect())


def summary(records: list[Account | Skipped], home: Path) -> list[str]:
    """One line per record, with the temporary home shown as HOME."""
    lines = []
    for record in records:
        if isinstance(record, Account):
            lines.append(f"account {record.address}")
        else:
            text = f"skipped {record.where} | {record.reason}"
            lines.append(text.replace(str(home), "HOME"))
    return lines


def accounts(records: list[Account | Skipped]) -> dict[str, Account]:
    return {r.address: r for r in records if isinstance(r, Account)}


def test_everything_read_in_order(home: Path) -> None:
    assert summary(collect(home), home) == [
        "skipped HOME/users/assign:9 | not a vpopmail domain line: "
        "1 fields, vpopmail assign lines have at least 5",
        "account alice@example.com",
        "account bob@example.com",
        "account dave@example.com",
        "skipped HOME/domains/example.com/vpasswd:4 | not a vpasswd line: "
        "0 ':' separators, vpasswd lines have at least 6",
        "account postmaster@example.com",
        "account test@example.com",
        "account carol@example.org",
        "skipped HOME/domains/example.org/0/erin/lastauth | "
        "lastauth unreadable (Is a directory); last login unknown",
        "account erin@example.org",
        "account frank@example.net",
        "account gina@cdbonly.test",
        "account henry@cdbonly.test",
        "skipped HOME/domains/broken.test/vpasswd | cannot read: Is a directory",
        "skipped HOME/domains/broken.test | "
        "broken.test: neither vpasswd nor vpasswd.cdb can be read",
        "skipped HOME/users/assign:8 | gone.test: directory HOME/domains/gone.test not found",
        "account ivan",
    ]


def test_target_case_test_test_with_last_auth_ip(home: Path) -> None:
    test = accounts(collect(home))["test@example.com"]
    assert test == Account(
        source=str(home),
        store="vpopmail",
        location=f"{home}/domains/example.com/vpasswd:6",
        address="test@example.com",
        username="test",
        domain="example.com",
        password_hash=Secret("$1$Qx7.Lm2z$lTNR/7KPadgr4iJ6l/uRz0", SecretKind.HASH),
        scheme=None,
        cleartext=Secret("test", SecretKind.CLEARTEXT),
        gecos="test",
        flags=("alias:mail.example.com",),
        home="/home/vpopmail/domains/example.com/test",
        quota="NOQUOTA",
        last_auth_ip="82.128.32.42",
        last_auth_at=datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC),
    )


def test_seven_field_line_and_lastauth_with_newline(home: Path) -> None:
    alice = accounts(collect(home))["alice@example.com"]
    assert alice.password_hash is not None
    assert alice.password_hash.value.startswith("$6$Ab3dEf9h$XuzJmfX1")
    assert alice.cleartext is None
    assert alice.gecos == "Alice Liddell"
    assert alice.last_auth_ip == "203.0.113.7"
    assert alice.last_auth_at == datetime(2026, 10, 1, 8, 0, 0, tzinfo=UTC)


def test_cleartext_with_colon_gid_flags_and_never_logged_in(home: Path) -> None:
    bob = accounts(collect(home))["bob@example.com"]
    assert bob.password_hash == Secret("AbiaWJmXaz/Eg", SecretKind.HASH)
    assert bob.cleartext == Secret("sum:mer", SecretKind.CLEARTEXT)
    assert bob.quota == "50000000S,1000C"
    assert bob.flags == ("NO_SMTP", "QA_ADMIN", "never-logged-in", "alias:mail.example.com")
    assert bob.last_auth_ip is None
    assert bob.last_auth_at is None


def test_empty_password_and_no_user_dir(home: Path) -> None:
    dave = accounts(collect(home))["dave@example.com"]
    assert dave.password_hash is None
    assert dave.cleartext is None
    assert dave.flags == ("empty-password", "alias:mail.example.com")
    assert (dave.last_auth_ip, dave.last_auth_at) == (None, None)


def test_admin_flag_and_cleartext(home: Path) -> None:
    postmaster = accounts(collect(home))["postmaster@example.com"]
    assert postmaster.flags == ("SA_ADMIN", "alias:mail.example.com")
    assert postmaster.cleartext == Secret("Xk9#vL2m!pQ7", SecretKind.CLEARTEXT)
    assert postmaster.last_auth_ip is None  # user dir not in the copy: unknown


def test_hashed_user_dirs_and_alias_sharing_the_directory(home: Path) -> None:
    found = accounts(collect(home))
    carol = found["carol@example.org"]
    assert carol.home == "/home/vpopmail/domains/example.org/0/carol"
    assert carol.last_auth_ip == "2001:db8::25"
    assert carol.last_auth_at == datetime(2026, 9, 15, 12, 0, 0, tzinfo=UTC)
    assert carol.flags == ("alias:www.example.org",)
    erin = found["erin@example.org"]
    assert (erin.last_auth_ip, erin.last_auth_at) == (None, None)


def test_aliases_are_read_once_and_listed(home: Path) -> None:
    source = VpopmailSource(home)
    records = list(source.collect())
    assert not any(isinstance(r, Account) and r.domain == "mail.example.com" for r in records)
    assert source.domain_aliases == {
        "example.com": ("mail.example.com",),
        "example.org": ("www.example.org",),
        "example.net": (),
        "cdbonly.test": (),
        "broken.test": (),
        "gone.test": (),
    }
    assert source.original_home == "/home/vpopmail"


def test_hashed_domain_dir(home: Path) -> None:
    frank = accounts(collect(home))["frank@example.net"]
    assert frank.location == f"{home}/domains/0/example.net/vpasswd:1"
    assert frank.password_hash == Secret("frGCDYsY0m.qM", SecretKind.HASH)
    assert frank.cleartext == Secret("frank123", SecretKind.CLEARTEXT)
    assert frank.last_auth_ip == "198.51.100.23"


def test_cdb_only_domain(home: Path) -> None:
    found = accounts(collect(home))
    gina, henry = found["gina@cdbonly.test"], found["henry@cdbonly.test"]
    assert gina.store == henry.store == "vpopmail-cdb"
    assert gina.location == f"{home}/domains/cdbonly.test/vpasswd.cdb:record 1"
    assert henry.location == f"{home}/domains/cdbonly.test/vpasswd.cdb:record 2"
    assert gina.cleartext == Secret("password", SecretKind.CLEARTEXT)
    assert gina.last_auth_ip == "192.0.2.10"
    assert gina.last_auth_at == datetime(2026, 7, 7, 7, 7, 7, tzinfo=UTC)
    assert henry.flags == ("NO_SMTP",)
    assert henry.cleartext is None


def test_default_domain_users_vpasswd(home: Path) -> None:
    ivan = accounts(collect(home))["ivan"]
    assert (ivan.username, ivan.domain, ivan.store) == ("ivan", None, "vpopmail")
    assert ivan.location == f"{home}/users/vpasswd:1"


def test_vpasswd_preferred_over_cdb(home: Path) -> None:
    shutil.copy(home / "domains/cdbonly.test/vpasswd.cdb", home / "domains/example.com")
    found = accounts(collect(home))
    assert found["test@example.com"].store == "vpopmail"
    assert "gina@example.com" not in found


def test_store_is_never_written(home: Path) -> None:
    def snapshot() -> dict[str, tuple[object, ...]]:
        state: dict[str, tuple[object, ...]] = {}
        for path in sorted(home.rglob("*")):
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            state[str(path)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
        return state

    before = snapshot()
    collect(home)
    assert snapshot() == before


def test_missing_assign_lists_domains_dir(home: Path) -> None:
    (home / "users/assign").unlink()
    source = VpopmailSource(home)
    records = list(source.collect())
    lines = summary(records, home)
    assert lines[0] == "skipped HOME/users/assign | missing; domains found by listing domains/"
    assert [line for line in lines if line.startswith("account")] == [
        "account frank@example.net",
        "account gina@cdbonly.test",
        "account henry@cdbonly.test",
        "account alice@example.com",
        "account bob@example.com",
        "account dave@example.com",
        "account postmaster@example.com",
        "account test@example.com",
        "account carol@example.org",
        "account erin@example.org",
        "account ivan",
    ]
    test = accounts(records)["test@example.com"]
    assert test.flags == ()
    assert test.last_auth_ip == "82.128.32.42"  # re-rooted by the /domains/ rule alone
    assert source.original_home is None


def test_unreadable_assign_lists_domains_dir(home: Path) -> None:
    (home / "users/assign").unlink()
    (home / "users/assign").mkdir()
    lines = summary(collect(home), home)
    assert lines[0] == (
        "skipped HOME/users/assign | "
        "cannot read (Is a directory); domains found by listing domains/"
    )
    assert "account test@example.com" in lines


def test_assign_given_elsewhere(home: Path, tmp_path: Path) -> None:
    assign = tmp_path / "qmail" / "users" / "assign"
    assign.parent.mkdir(parents=True)
    (home / "users/assign").rename(assign)
    found = accounts(collect(home, assign=assign))
    assert found["test@example.com"].flags == ("alias:mail.example.com",)


def test_assign_end_line_rules(home: Path) -> None:
    text = "+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
    (home / "users/assign").write_text(text)
    lines = summary(collect(home), home)
    assert (
        lines[0] == "skipped HOME/users/assign | no '.' end line (qmail-newu refuses such a file)"
    )
    (home / "users/assign").write_text(
        text + ".\n+example.org-:example.org:89:89:/home/vpopmail/domains/example.org:-::\n\n"
    )
    records = collect(home)
    assert summary(records, home)[0] == (
        "skipped HOME/users/assign | lines after the '.' end line are ignored, as qmail does"
    )
    assert next(r for r in records if isinstance(r, Skipped)).count == 1
    assert "carol@example.org" not in accounts(records)


def test_empty_store_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "users").mkdir()
    (tmp_path / "users/assign").write_text(".\n")
    assert collect(tmp_path) == []


def test_paths_already_naming_the_home_are_used_as_is(tmp_path: Path) -> None:
    dom = tmp_path / "domains" / "example.com"
    (dom / "test").mkdir(parents=True)
    (tmp_path / "users").mkdir()
    (tmp_path / "users/assign").write_text(f"+example.com-:example.com:89:89:{dom}:-::\n.\n")
    (dom / "vpasswd").write_text(f"test:x:1:0:test:{dom}/test:NOQUOTA:test\n")
    (dom / "test/lastauth").write_text("82.128.32.42")
    (test,) = collect(tmp_path)
    assert isinstance(test, Account)
    assert test.last_auth_ip == "82.128.32.42"


@pytest.mark.skipif(Path("/home/vpopmail").exists(), reason="this machine has a real vpopmail")
def test_reroot_off_uses_the_written_paths(home: Path) -> None:
    lines = summary(collect(home, reroot=False), home)
    assert (
        "skipped HOME/users/assign:1 | "
        "example.com: directory /home/vpopmail/domains/example.com not found"
    ) in lines
    assert lines[-1] == "account ivan"


@pytest.mark.parametrize("kind", ["missing", "file", "empty"])
def test_unreadable_store_raises(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "vpopmail"
    if kind == "file":
        path.write_text("not a directory")
    elif kind == "empty":
        path.mkdir()
    with pytest.raises(SourceError) as caught:
        collect(path)
    assert caught.value.source == str(path)
    assert (
        caught.value.reason
        == {
            "missing": "no such directory",
            "file": "not a directory",
            "empty": "not a vpopmail home: no readable users/assign, no domains, no users/vpasswd",
        }[kind]
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files; covered by directories")
def test_permission_denied_vpasswd(home: Path) -> None:
    (home / "domains/example.com/vpasswd").chmod(0)
    lines = summary(collect(home), home)
    assert "skipped HOME/domains/example.com/vpasswd | cannot read: Permission denied" in lines


def test_fifos_and_devices_are_refused_not_read(home: Path) -> None:
    lastauth = home / "domains/example.com/test/lastauth"
    lastauth.unlink()
    os.mkfifo(lastauth)
    vpasswd = home / "domains/0/example.net/vpasswd"
    vpasswd.unlink()
    vpasswd.symlink_to("/dev/zero")
    records = collect(home)
    lines = summary(records, home)
    assert (
        "skipped HOME/domains/example.com/test/lastauth | "
        "lastauth unreadable (not a regular file); last login unknown"
    ) in lines
    assert "skipped HOME/domains/0/example.net/vpasswd | cannot read: not a regular file" in lines
    assert accounts(records)["test@example.com"].last_auth_ip is None


def test_duplicate_user_keeps_the_first(home: Path) -> None:
    vpasswd = home / "domains/example.com/vpasswd"
    with vpasswd.open("a") as stream:
        stream.write("test:other:1:0:test:/home/vpopmail/domains/example.com/test:NOQUOTA:other\n")
    records = collect(home)
    assert (
        "skipped HOME/domains/example.com/vpasswd:7 | "
        "duplicate user name (vpopmail uses the first line)"
    ) in summary(records, home)
    assert accounts(records)["test@example.com"].cleartext == Secret("test", SecretKind.CLEARTEXT)


def test_damaged_cdb_keeps_the_records_before_the_damage(home: Path) -> None:
    cdb = home / "domains/cdbonly.test/vpasswd.cdb"
    data = bytearray(cdb.read_bytes())
    second = 2048 + 8 + 4 + 165  # header, then gina's record (key 4 bytes, data 165 bytes)
    data[second : second + 4] = (10**6).to_bytes(4, "little")
    cdb.write_bytes(bytes(data))
    records = collect(home)
    lines = summary(records, home)
    assert "account gina@cdbonly.test" in lines
    assert "account henry@cdbonly.test" not in lines
    assert (
        "skipped HOME/domains/cdbonly.test/vpasswd.cdb | damaged cdb, records after this point "
        f"lost: offset {second}: record of 1000000+97 bytes runs past the records area"
    ) in lines


def test_fixture_hashes_are_real(home: Path) -> None:
    """The tree's hashes verify against the passwords the accounts keep in clear (or know)."""
    passlib_hash = pytest.importorskip("passlib.hash")
    known = {
        "alice@example.com": "Tr0ub4dor&3",
        "erin@example.org": "winter2019",
        "ivan": "letmein",
    }
    known["henry@cdbonly.test"] = "henry"
    found = accounts(collect(home))
    handlers = {"$1$": passlib_hash.md5_crypt, "$6$": passlib_hash.sha512_crypt}
    for address, account in found.items():
        if account.password_hash is None:
            continue
        value = account.password_hash.value
        password = account.cleartext.value if account.cleartext else known[address]
        handler = handlers.get(value[:3], passlib_hash.des_crypt)
        assert handler.verify(password, value), address
    test_hash = found["test@example.com"].password_hash
    assert test_hash is not None
    assert passlib_hash.md5_crypt.verify("test", test_hash.value)
