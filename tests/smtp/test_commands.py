"""Command lines: verbs, AUTH and BDAT arguments, and lines that are surely commands."""

from __future__ import annotations

import pytest

from authaudit.smtp.commands import (
    parse_auth,
    parse_bdat,
    split_command,
    surely_command,
    trigger_for,
)
from authaudit.smtp.states import Trigger


def test_verbs_are_case_insensitive() -> None:
    assert split_command(b"staRttLs") == (b"STARTTLS", b"")
    assert split_command(b"mail FROM:<a@b>") == (b"MAIL", b"FROM:<a@b>")
    assert trigger_for(b"STARTTLS") is Trigger.CMD_STARTTLS
    assert trigger_for(b"AUTH") is Trigger.CMD_AUTH
    assert trigger_for(b"RSET") is Trigger.CMD


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (b"LOGIN", ("LOGIN", None)),
        (b"plain dXNlcg==", ("PLAIN", b"dXNlcg==")),
        (b"PLAIN =", ("PLAIN", b"")),
        (b"cram-md5", ("CRAM-MD5", None)),
        (b"", None),
        (b"LOGIN a b", None),
        (b"L\xc3\xa9", None),
    ],
)
def test_parse_auth(args: bytes, parsed: tuple[str, bytes | None] | None) -> None:
    assert parse_auth(args) == parsed


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        (b"3135 LAST", (3135, True)),
        (b"0 last", (0, True)),
        (b"100", (100, False)),
        (b"x", None),
        (b"10 MORE", None),
        (b"", None),
        (b"9" * 16, None),
    ],
)
def test_parse_bdat(args: bytes, parsed: tuple[int, bool] | None) -> None:
    assert parse_bdat(args) == parsed


@pytest.mark.parametrize(
    "line",
    [
        b"EHLO client.example",
        b"helo x",
        b"MAIL FROM:<a@b>",
        b"RCPT TO: <x@y>",
        b"QUIT",
        b"rset",
        b"DATA",
        b"STARTTLS",
        b"AUTH LOGIN",
        b"AUTH PLAIN dXNlcg==",
        b"BDAT 12 LAST",
        b"NOOP",
    ],
)
def test_surely_commands(line: bytes) -> None:
    assert surely_command(line)


@pytest.mark.parametrize(
    "line", [b"Z2FsdW50", b"EHLO", b"Quit smoking now", b"Data: 12", b"From: a@b", b"AUTH", b"."]
)
def test_not_surely_commands(line: bytes) -> None:
    assert not surely_command(line)
