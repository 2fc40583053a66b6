"""NTLM test material: the SMTP exchange of the public corpus and an AUTHENTICATE builder."""

from __future__ import annotations

import struct

__all__ = [
    "CORPUS_TYPE1",
    "CORPUS_TYPE2",
    "CORPUS_TYPE3",
    "CORPUS_V1_LINE",
    "SPEC_V2_BLOB",
    "authenticate",
    "challenge",
]

# multiproto-ntlm_incl-smtp-auth-ntlm.pcap, tcp.stream 10 (arkime tests/pcap/ntlm_synthetic.pcap).
CORPUS_TYPE1 = b"TlRMTVNTUAABAAAABwIAAgcABwAoAAAACAAIAC8AAAAKAGFKAAAAD1NNVFBET01TTVRQSE9TVA=="
CORPUS_TYPE2 = (
    b"TlRMTVNTUAACAAAADgAOADgAAAAFAgACASNFZ4mrze8AAAAAAAAAAAQABABGAAAACgBhSgAAAA9TAE0AVABQAFQARwBU"
    b"AAAAAAA="
)
CORPUS_TYPE3 = (
    b"TlRMTVNTUAADAAAAGAAYAFgAAAAYABgAcAAAAA4ADgCIAAAACAAIAJYAAAAQABAAngAAABAAEACuAAAABQIAAgoAYUoAAAAP"
    b"AAAAAAAAAAAAAAAAAAAAAExMTExMTExMTExMTExMTExMTExMTExMTE5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTlMATQBUAFAA"
    b"RABPAE0AagBhAGMAawBTAE0AVABQAEgATwBTAFQAS0tLS0tLS0tLS0tLS0tLSw=="
)
CORPUS_V1_LINE = "jack::SMTPDOM:" + "4c" * 24 + ":" + "4e" * 24 + ":0123456789abcdef"

# [MS-NLMP] 4.2.4: the NTLMv2 "temp" blob for User/Domain/Password, client challenge aa..aa,
# timestamp 0, target info Domain + Server. HMAC gives NTProofStr 68cd0ab851e51c96aabc927bebef6a1c.
_TARGET_INFO = (
    b"\x02\x00\x0c\x00"
    + "Domain".encode("utf-16-le")
    + b"\x01\x00\x0c\x00"
    + "Server".encode("utf-16-le")
    + bytes(4)
)
SPEC_V2_BLOB = b"\x01\x01" + bytes(6) + bytes(8) + b"\xaa" * 8 + bytes(4) + _TARGET_INFO + bytes(4)

_UNICODE = 0x00000001
_NTLM = 0x00000200


def challenge(server_challenge: bytes, flags: int = _UNICODE | _NTLM) -> bytes:
    """A minimal CHALLENGE (type 2) message."""
    return b"NTLMSSP\x00" + struct.pack("<IHHII", 2, 0, 0, 48, flags) + server_challenge + bytes(16)


def authenticate(
    lm: bytes, nt: bytes, domain: str, user: str, host: str, *, unicode: bool = True
) -> bytes:
    """An AUTHENTICATE (type 3) message with the given responses and names."""

    def encode(text: str) -> bytes:
        return text.encode("utf-16-le" if unicode else "ascii")

    payloads = [lm, nt, encode(domain), encode(user), encode(host), b""]
    offset = 64
    fields = b""
    for payload in payloads:
        fields += struct.pack("<HHI", len(payload), len(payload), offset)
        offset += len(payload)
    flags = (_UNICODE if unicode else 0x2) | _NTLM
    return (
        b"NTLMSSP\x00"
        + struct.pack("<I", 3)
        + fields
        + struct.pack("<I", flags)
        + b"".join(payloads)
    )
