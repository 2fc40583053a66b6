"""SASL mechanism decoders: what each AUTH exchange reveals about the user and the password.

One class per mechanism, registered in :data:`DECODERS` by SASL name; the interface they share is
in :mod:`.sasl`.

Secrets for challenge-response mechanisms are lines an offline cracker (or :mod:`.verify`) can check
candidate passwords against:

* CRAM-MD5: ``$cram_md5$<challenge b64 as sent>$<response b64 as sent>`` (hashcat 10200).
* NTLM: NetNTLMv1 / NetNTLMv2 lines (hashcat 5500 / 5600), see :mod:`.ntlm`.
* DIGEST-MD5: ``$digest-md5$user$realm$nonce$cnonce$nc$qop$digest-uri$authzid$response$charset``,
  each field percent-encoded (``%``, ``$`` and non-printable bytes), so the exact bytes survive.
* SCRAM-*: ``$scram$<hash>$<iterations>$<salt b64>$<AuthMessage b64>$<ClientProof b64>``.
"""

from __future__ import annotations

import binascii
import re

from authaudit.redact import Secret, SecretKind
from authaudit.smtp import ntlm
from authaudit.smtp.b64 import decode_b64
from authaudit.smtp.sasl import Decoded, Mechanism, pct, saslname
from authaudit.smtp.text import render_bytes

__all__ = ["DECODERS", "NOT_DECODED", "Decoded", "Mechanism", "decoder_for", "directives"]


class Login(Mechanism):
    """LOGIN (draft-murchison-sasl-login): user name, then password, each in its own response.

    The prompts' text is ignored: servers word them differently, and the order is what counts.
    """

    steps = 2

    def _on_response(self, text: bytes) -> None:
        data = self._b64(text)
        if data is None:
            return
        if self.responses == 1:
            self.decoded.username = render_bytes(data)
        elif self.responses == 2:
            self.decoded.secret = Secret(render_bytes(data))
        elif data:
            self.decoded.flag("extra-response")


class Plain(Mechanism):
    """PLAIN (RFC 4616): ``authzid NUL authcid NUL passwd`` in one response."""

    steps = 1

    def _on_response(self, text: bytes) -> None:
        if self.responses > 1:
            if text:
                self.decoded.flag("extra-response")
            return
        data = self._b64(text)
        if data is None:
            return
        if not data:
            self.decoded.flag("empty-response")
            return
        parts = data.split(b"\x00")
        if len(parts) == 2:  # authcid NUL passwd: not RFC 4616, but some clients do it
            parts.insert(0, b"")
            self.decoded.flag("malformed")
        elif len(parts) != 3:
            self.decoded.flag("malformed")
            return
        authzid, authcid, passwd = parts
        d = self.decoded
        d.authzid = render_bytes(authzid) if authzid else None
        if authcid:
            d.username = render_bytes(authcid)
        else:
            d.flag("empty-authcid")
            d.username = d.authzid
        d.secret = Secret(render_bytes(passwd))


class CramMd5(Mechanism):
    """CRAM-MD5 (RFC 2195): the response is ``user SP hex(HMAC-MD5(password, challenge))``."""

    steps = 1

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._challenge: bytes | None = None

    def _on_challenge(self, text: bytes) -> None:
        if self._challenge is None:
            self._challenge = text
            self._b64(text)

    def _on_response(self, text: bytes) -> None:
        if self.responses > 1:
            if text:
                self.decoded.flag("extra-response")
            return
        data = self._b64(text)
        if data is None:
            return
        user, sep, digest = data.rpartition(b" ")
        if not sep or not re.fullmatch(rb"[0-9a-fA-F]{32}", digest):
            self.decoded.flag("malformed")
            return
        self.decoded.username = render_bytes(user)
        if self._challenge is None:
            self.decoded.flag("no-challenge")
            return
        value = f"$cram_md5${self._challenge.decode('ascii', 'replace')}${text.decode('ascii')}"
        self.decoded.secret = Secret(value, SecretKind.CRAM_MD5)


class Ntlm(Mechanism):
    """NTLM: NEGOTIATE (may be the initial response), CHALLENGE in a 334, then AUTHENTICATE."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._server_challenge: bytes | None = None
        self._done = False

    @property
    def complete(self) -> bool:
        """See :attr:`Mechanism.complete`: done once the AUTHENTICATE message was sent."""
        return self._done

    def _on_challenge(self, text: bytes) -> None:
        try:
            data, _ = decode_b64(text)  # Exchange says "334 NTLM supported" first: not base64
        except ValueError:
            return
        if ntlm.message_type(data) == 2:
            self._server_challenge = ntlm.parse_challenge(data)

    def _on_response(self, text: bytes) -> None:
        data = self._b64(text)
        if data is None:
            return
        kind = ntlm.message_type(data)
        if kind == 1 or (kind is None and not data):
            return
        if kind != 3:
            self.decoded.flag("malformed")
            return
        self._done = True
        auth = ntlm.parse_authenticate(data)
        self.decoded.username = auth.identity
        if not auth.nt_response and not auth.user:
            self.decoded.flag("anonymous")
            return
        if self._server_challenge is None:
            self.decoded.flag("no-challenge")
            return
        self.decoded.secret = ntlm.netntlm_secret(auth, self._server_challenge)
        if self.decoded.secret is None:
            self.decoded.flag("malformed")


_DIRECTIVE = re.compile(
    rb'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)', re.DOTALL
)
_UNQUOTE = re.compile(rb"\\(.)", re.DOTALL)


def directives(data: bytes) -> dict[str, bytes]:
    """RFC 2831 ``key=value`` / ``key="quoted"`` pairs; keys lower-cased, the first of each wins."""
    out: dict[str, bytes] = {}
    for match in _DIRECTIVE.finditer(data):
        key = match.group(1).decode("ascii").lower()
        quoted = match.group(2)
        value = _UNQUOTE.sub(rb"\1", quoted) if quoted is not None else match.group(3)
        out.setdefault(key, value)
    return out


class DigestMd5(Mechanism):
    """DIGEST-MD5 (RFC 2831): challenge directives, then the client's digest-response."""

    steps = 1

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._nonce: bytes | None = None

    def _on_challenge(self, text: bytes) -> None:
        if self.challenges == 1:  # the digest-challenge; a later one carries rspauth
            data = self._b64(text)
            if data is not None:
                self._nonce = directives(data).get("nonce")

    def _on_response(self, text: bytes) -> None:
        if self.responses > 1:
            return  # the empty answer to the server's rspauth
        data = self._b64(text)
        if data is None:
            return
        fields = directives(data)
        if "username" not in fields or "response" not in fields:
            self.decoded.flag("malformed")
            return
        d = self.decoded
        if self._nonce is not None and fields.get("nonce") != self._nonce:
            d.flag("nonce-mismatch")  # not an answer to the challenge seen: cannot verify
        d.username = render_bytes(fields["username"])
        if fields.get("authzid"):
            d.authzid = render_bytes(fields["authzid"])
        names = ("username", "realm", "nonce", "cnonce", "nc", "qop", "digest-uri", "authzid")
        parts = [pct(fields.get(name, b"")) for name in names]
        parts += [pct(fields["response"].lower()), pct(fields.get("charset", b""))]
        d.secret = Secret("$digest-md5$" + "$".join(parts), SecretKind.DIGEST_MD5)


def _scram_attrs(message: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for item in message.split(b","):
        key, sep, value = item.partition(b"=")
        if sep and len(key) == 1:
            out.setdefault(key, value)
    return out


class Scram(Mechanism):
    """SCRAM-* (RFC 5802, RFC 7677): client-first, server-first, client-final with the proof."""

    steps = 2

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._hash = name.removeprefix("SCRAM-").removesuffix("-PLUS")
        self._client_first_bare: bytes | None = None
        self._server_first: bytes | None = None

    def _on_challenge(self, text: bytes) -> None:
        if self._server_first is None:
            self._server_first = self._b64(text)

    def _on_response(self, text: bytes) -> None:
        data = self._b64(text)
        if data is None:
            return
        if self._client_first_bare is None:
            self._client_first(data)
        elif self.decoded.secret is None and b",p=" in data:
            self._client_final(data)

    def _client_first(self, data: bytes) -> None:
        cbind, _, rest = data.partition(b",")
        authzid, sep, bare = rest.partition(b",")
        if not sep or cbind[:1] not in (b"n", b"y", b"p"):
            self.decoded.flag("malformed")
            return
        self._client_first_bare = bare
        if authzid.startswith(b"a="):
            self.decoded.authzid = saslname(authzid[2:])
        user = _scram_attrs(bare).get(b"n")
        if user is not None:
            self.decoded.username = saslname(user)

    def _client_final(self, data: bytes) -> None:
        without_proof, _, proof = data.rpartition(b",p=")
        server_first = self._server_first
        if server_first is None or self._client_first_bare is None:
            self.decoded.flag("no-challenge")
            return
        attrs = _scram_attrs(server_first)
        salt, iterations = attrs[b"s"], int(attrs[b"i"])
        auth_message = b",".join((self._client_first_bare, server_first, without_proof))
        value = "$".join(
            ("$scram", self._hash, str(iterations), salt.decode("ascii"),
             _b64text(auth_message), proof.decode("ascii"))
        )
        self.decoded.secret = Secret(value, SecretKind.SCRAM)


def _b64text(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


class XOAuth2(Mechanism):
    """XOAUTH2 (Google/Microsoft): ``user=U ^A auth=Bearer TOKEN ^A ^A``."""

    steps = 1

    def _on_response(self, text: bytes) -> None:
        if self.responses > 1:
            return  # the empty answer to an error challenge
        data = self._b64(text)
        if data is not None:
            _bearer(self.decoded, data, user_key=b"user")


class OAuthBearer(Mechanism):
    """OAUTHBEARER (RFC 7628): GS2 header ``n,a=user,`` then ``^A``-separated key=value pairs."""

    steps = 1

    def _on_response(self, text: bytes) -> None:
        if self.responses > 1:
            return
        data = self._b64(text)
        if data is None:
            return
        header, _, _ = data.partition(b"\x01")
        for part in header.split(b","):
            if part.startswith(b"a="):
                self.decoded.authzid = saslname(part[2:])
        _bearer(self.decoded, data, user_key=None)
        self.decoded.username = self.decoded.authzid


def _bearer(decoded: Decoded, data: bytes, *, user_key: bytes | None) -> None:
    for part in data.split(b"\x01"):
        key, sep, value = part.partition(b"=")
        if not sep:
            continue
        if user_key is not None and key == user_key:
            decoded.username = render_bytes(value)
        elif key == b"auth":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token:
                decoded.secret = Secret(render_bytes(token.strip()), SecretKind.BEARER_TOKEN)
    if decoded.secret is None:
        decoded.flag("malformed")


class NotDecoded(Mechanism):
    """A known mechanism whose tokens reveal nothing we decode (GSSAPI, EXTERNAL ...)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.decoded.flag("not-decoded")


class Unknown(Mechanism):
    """A mechanism name we do not know."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.decoded.flag("unknown-mechanism")


DECODERS: dict[str, type[Mechanism]] = {
    "LOGIN": Login,
    "PLAIN": Plain,
    "CRAM-MD5": CramMd5,
    "NTLM": Ntlm,
    "DIGEST-MD5": DigestMd5,
    "XOAUTH2": XOAuth2,
    "OAUTHBEARER": OAuthBearer,
    **{
        f"SCRAM-{h}{plus}": Scram
        for h in ("SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
        for plus in ("", "-PLUS")
    },
}
"""Mechanism name (upper case) -> decoder class."""

NOT_DECODED = frozenset(
    {
        "GSSAPI", "GSS-SPNEGO", "GS2-KRB5", "GS2-KRB5-PLUS", "KERBEROS_V4", "KERBEROS_V5",
        "EXTERNAL", "ANONYMOUS", "SRP", "OTP", "SKEY", "SECURID", "EAP-AES128", "EAP-AES128-PLUS",
        "PASSDSS-3DES-1", "SAML20", "OPENID20", "NMAS_LOGIN", "NMAS_AUTHEN", "NMAS-SAMBA-AUTH",
        "9798-U-RSA-SHA1-ENC", "9798-M-RSA-SHA1-ENC", "9798-U-DSA-SHA1", "9798-M-DSA-SHA1",
        "9798-U-ECDSA-SHA1", "9798-M-ECDSA-SHA1", "XOAUTH", "X-OAUTH2",
    }
)
"""Registered SASL mechanisms that are recognised but not decoded."""


def decoder_for(name: str) -> Mechanism:
    """A fresh decoder for mechanism ``name`` (already upper-cased)."""
    cls = DECODERS.get(name)
    if cls is not None:
        return cls(name)
    return NotDecoded(name) if name in NOT_DECODED else Unknown(name)
