"""Write pcaps/demo/relay-spam-test-test.pcap: the incident authaudit exists for, as a capture.

A hosting company's qmail server relays spam for an authenticated user. ``tcpdump -w dump host
82.128.32.42`` shows the spammer first guessing ``admin``/``admin`` (535), then logging in as
``test`` with the password ``test`` in clear (AUTH LOGIN, 235) and relaying a message. The
addresses are the documentation ranges and the names of the original report; run
``python scripts/make_demo_capture.py`` from the repository root to regenerate the file (it is
deterministic).
"""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pcap.builders import Conversation, ethernet, ipv4, pcap_file, tcp  # noqa: E402

SPAMMER = "82.128.32.42"
SERVER = "192.0.2.25"
START = datetime(2026, 11, 16, 3, 12, 45, tzinfo=UTC).timestamp()


def b64(text: str) -> bytes:
    """Base64 of ``text`` as an SMTP line."""
    return base64.b64encode(text.encode()) + b"\r\n"


def session(port: int, ts: float, user: str, password: str, ok: bool) -> Conversation:
    """One SMTP connection with an AUTH LOGIN attempt and, when it succeeds, a relayed message."""
    c = Conversation(client=(SPAMMER, port), server=(SERVER, 25), ts=ts, step=0.012,
                     client_isn=0x1F3A0000 + port, server_isn=0x7C010000 + port)
    c.handshake()
    c.send(False, b"220 mail.victim.org ESMTP\r\n")
    c.send(True, b"EHLO User\r\n")
    c.send(False, b"250-mail.victim.org\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                  b"250 AUTH LOGIN PLAIN CRAM-MD5\r\n")
    c.send(True, b"AUTH LOGIN\r\n")
    c.send(False, b"334 VXNlcm5hbWU6\r\n")
    c.send(True, b64(user))
    c.send(False, b"334 UGFzc3dvcmQ6\r\n")
    c.send(True, b64(password))
    if not ok:
        c.send(False, b"535 5.7.8 authorization failed\r\n")
        c.send(True, b"QUIT\r\n")
        c.send(False, b"221 2.0.0 closing\r\n")
        return c.close()
    c.send(False, b"235 2.0.0 OK Authenticated\r\n")
    c.send(True, b"MAIL FROM:<kbradford@philadefender.org>\r\n")
    c.send(False, b"250 ok\r\n")
    c.send(True, b"RCPT TO:<aikens_l@msn.com>\r\n")
    c.send(False, b"250 ok\r\n")
    c.send(True, b"DATA\r\n")
    c.send(False, b"354 go ahead\r\n")
    body = (b"From: Kathy Bradford <kbradford@philadefender.org>\r\nTo: aikens_l@msn.com\r\n"
            b"Subject: Your account statement\r\n\r\n"
            + b"AUTH LOGIN\r\ndGVzdA==\r\n"  # text in a body is never a credential
            + b"Please review the attached statement.\r\n" * 40 + b".\r\n")
    c.send(True, body)
    c.send(False, b"250 ok 1763262766 qp 4242\r\n")
    c.send(True, b"QUIT\r\n")
    c.send(False, b"221 mail.victim.org\r\n")
    return c.close()


def main() -> int:
    """Write the capture next to the other bundled ones."""
    records: list[tuple[float, bytes]] = []
    for conv in (session(50312, START, "admin", "admin", ok=False),
                 session(50318, START + 4.0, "test", "test", ok=True)):
        for s in conv.segments:
            segment = tcp(s.payload, s.sport, s.dport, seq=s.seq, ack=s.ack, flags=s.flags)
            records.append((s.ts, ethernet(ipv4(segment, s.src, s.dst))))
    records.sort(key=lambda r: r[0])
    out = ROOT / "pcaps" / "demo" / "relay-spam-test-test.pcap"
    out.write_bytes(pcap_file(records))
    sys.stdout.write(f"{out}: {len(records)} packets\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
