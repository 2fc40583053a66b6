"""NTLMSSP messages as carried by ``AUTH NTLM`` ([MS-NLMP] 2.2), and the crackable lines they give.

Only what a passive auditor needs is parsed: the server challenge from the CHALLENGE message (type
2) and, from the AUTHENTICATE message (type 3), the LM and NT responses and the domain, user and
workstation names. A response of 24 bytes is NTLMv1 (hashcat mode 5500); a longer one is NTLMv2,
whose first 16 bytes are the NTProofStr and the rest the client blob (hashcat mode 5600). """

from __future__ import annotations

import struct
from dataclasses import dataclass

from authaudit.redact import Secret, SecretKind
from authaudit.smtp.text import escape_bytes, render_bytes

__all__ = [
    "NEGOTIATE_UNICODE",
    "SIGNATURE",
    "Authenticate",
    "message_type",
    "netntlm_secret",
    "parse_authenticate",
    "parse_challenge",
]

SIGNATURE = b"NTLMSSP\x00"
NEGOTIATE_UNICODE = 0x00000001
_FIELD = struct.Struct("<HHI")
_U32 = struct.Struct("<I")
_V1_RESPONSE_LEN = 24


@dataclass(frozen=True, slots=True)
class Authenticate:
    """The fields of an AUTHENTICATE (type 3) message: who the user is, and the password proof."""

    lm_response: bytes
    nt_response: bytes
    domain: str
    user: str
    workstation: str
    flags: int

    @property
    def unicode(self) -> bool:
        """True when the names were sent as UTF-16LE (NTLMSSP_NEGOTIATE_UNICODE)."""
        return bool(self.flags & NEGOTIATE_UNICODE)

    @property
    def identity(self) -> str:
        """``DOMAIN\\user``, or just ``user`` when no domain was sent."""
        return f"{self.domain}\\{self.user}" if self.domain else self.user


def message_type(blob: bytes) -> int | None:
    """The NTLMSSP message type (1, 2 or 3), or None when ``blob`` is not an NTLMSSP message."""
    if len(blob) < 12 or not blob.startswith(SIGNATURE):
        return None
    return int(_U32.unpack_from(blob, 8)[0])


def parse_challenge(blob: bytes) -> bytes:
    """The 8-byte server challenge of a CHALLENGE (type 2) message.

    Raises:
        ValueError: ``blob`` is not a complete CHALLENGE message.
    """
    if message_type(blob) != 2 or len(blob) < 32:
        raise ValueError("not an NTLMSSP CHALLENGE message")
    return blob[24:32]


def parse_authenticate(blob: bytes) -> Authenticate:
    """The names and responses of an AUTHENTICATE (type 3) message.

    Raises:
        ValueError: ``blob`` is not a well-formed AUTHENTICATE message.
    """
    if message_type(blob) != 3 or len(blob) < 52:
        raise ValueError("not an NTLMSSP AUTHENTICATE message")
    flags = int(_U32.unpack_from(blob, 60)[0]) if len(blob) >= 64 else 0
    lm, nt, domain, user, workstation = (_field(blob, 12 + 8 * i) for i in range(5))
    decode = _utf16 if flags & NEGOTIATE_UNICODE else render_bytes
    return Authenticate(lm, nt, decode(domain), decode(user), decode(workstation), flags)


def netntlm_secret(auth: Authenticate, challenge: bytes) -> Secret | None:
    """The hashcat line for ``auth`` answered to ``challenge``, or None for an anonymous or odd one.

    NetNTLMv1: ``user::domain:lm:nt:challenge`` (mode 5500); NetNTLMv2:
    ``user::domain:challenge:ntproofstr:blob`` (mode 5600). All binary fields in lower-case hex.
    """
    nt = auth.nt_response
    head = f"{auth.user}::{auth.domain}"
    if len(nt) == _V1_RESPONSE_LEN:
        line = f"{head}:{auth.lm_response.hex()}:{nt.hex()}:{challenge.hex()}"
        return Secret(line, SecretKind.NETNTLMV1)
    if len(nt) > _V1_RESPONSE_LEN:
        line = f"{head}:{challenge.hex()}:{nt[:16].hex()}:{nt[16:].hex()}"
        return Secret(line, SecretKind.NETNTLMV2)
    return None


def _field(blob: bytes, at: int) -> bytes:
    length, _max_length, offset = _FIELD.unpack_from(blob, at)
    if length == 0:
        return b""
    if offset + length > len(blob):
        raise ValueError("NTLMSSP field points past the end of the message")
    return blob[offset : offset + length]


def _utf16(data: bytes) -> str:
    try:
        text = data.decode("utf-16-le")
    except UnicodeDecodeError:
        return escape_bytes(data)
    return text if text.isprintable() else escape_bytes(data)
