"""Small builders of log events for the correlation tests (no parser involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia

T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def login(user: str | None, ip: str, minutes: float, *, ok: bool = True, n: int = 1,
          service: str = "smtp", line: int = 1) -> LoginEvent:
    """A login success or failure."""
    return LoginEvent(
        source="maillog", lineno=line, time=at(minutes), daemon="vpopmail", service=service,
        kind=LoginKind.SUCCESS if ok else LoginKind.FAILURE, user=user, client_ip=ip,
        attempts=n, line=f"vchkpw-smtp: {'login success' if ok else 'password fail'} {user}:{ip}",
    )


def message(user: str | None, ip: str | None, minutes: float, rcpts: list[str], *,
            status: str = "sent", sender: str = "", via: RelayVia = RelayVia.AUTH,
            uid: int | None = None, line: int = 1) -> RelayedMessage:
    """A relayed message with every recipient in ``status``."""
    return RelayedMessage(
        source="maillog", lineno=line, time=at(minutes), daemon="qmail", queue_id="",
        via=via, user=user, uid=uid, client_ip=ip, sender=sender,
        deliveries=tuple(Delivery(recipient=r, status=status, relay="mx") for r in rcpts),
        lines=(f"CHKUSER relaying rcpt: from <{sender}:{user}:> remote <x:y:{ip}>",),
    )
