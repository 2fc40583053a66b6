"""Small factories with sensible defaults for records used across tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authaudit.model import AuthAttempt, FlowKey, Outcome, Report
from authaudit.redact import Secret, SecretKind

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def make_flow(**kw: Any) -> FlowKey:
    """A flow from 82.128.32.42:40000 to 192.0.2.25:25 unless told otherwise."""
    base: dict[str, Any] = {
        "client_ip": "82.128.32.42",
        "client_port": 40000,
        "server_ip": "192.0.2.25",
        "server_port": 25,
    }
    base.update(kw)
    return FlowKey(**base)


def make_attempt(**kw: Any) -> AuthAttempt:
    """A successful cleartext LOGIN test/test attempt unless told otherwise."""
    base: dict[str, Any] = {
        "capture": "dump.pcap",
        "time": T0,
        "flow": make_flow(),
        "mechanism": "LOGIN",
        "username": "test",
        "secret": Secret("test", SecretKind.CLEARTEXT),
        "outcome": Outcome.SUCCESS,
        "reply_code": 235,
        "reply_text": "2.0.0 OK Authenticated",
    }
    base.update(kw)
    return AuthAttempt(**base)


def make_report(**kw: Any) -> Report:
    """An empty pcap report at T0 unless told otherwise."""
    base: dict[str, Any] = {"tool_version": "0.1.0", "generated_at": T0, "command": "pcap"}
    base.update(kw)
    return Report(**base)
