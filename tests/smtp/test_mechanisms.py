"""Each SASL mechanism decoder, fed challenges and responses as they appear on the wire."""

from __future__ import annotations

import pytest

from authaudit.redact import Secret, SecretKind
from authaudit.smtp.mechanisms import DECODERS, Decoded, decoder_for, directives
from tests.smtp.helpers import b64
from tests.smtp.ntlm_data import (
    CORPUS_TYPE1,
    CORPUS_TYPE2,
    CORPUS_TYPE3,
    CORPUS_V1_LINE,
    authenticate,
)


def run(name: str, *steps: tuple[str, bytes]) -> Decoded:
    """Feed ``("c", response)`` / ``("s", challenge)`` steps to a fresh decoder."""
    mech = decoder_for(name)
    for who, text in steps:
        if who == "c":
            mech.response(text)
        else:
            mech.challenge(text)
    return mech.decoded


def test_login_takes_user_then_password_whatever_the_prompts() -> None:
    got = run(
        "LOGIN",
        ("s", b"VXNlcm5hbWU6"),
        ("c", b64("galunt")),
        ("s", b"Tm9wZQ=="),
        ("c", b64("V1v1tr0n")),
    )
    assert got == Decoded(username="galunt", secret=Secret("V1v1tr0n"))


def test_login_initial_response_is_the_user() -> None:
    got = run("LOGIN", ("c", b64("bob")), ("s", b"UGFzc3dvcmQ6"), ("c", b64("pw")))
    assert (got.username, got.secret) == ("bob", Secret("pw"))


def test_login_command_looking_user_is_still_a_user() -> None:
    got = run("LOGIN", ("c", b"QUIT"))
    assert (got.username, got.secret, got.flags) == ("\\x41\\x42\\x13", None, [])


def test_login_lenient_and_bad_base64_are_flagged() -> None:
    assert run("LOGIN", ("c", b"Ym9i")).flags == []
    assert run("LOGIN", ("c", b"Ym9")).flags == ["lenient-base64"]
    got = run("LOGIN", ("c", b"not base64!"))
    assert (got.username, got.flags) == (None, ["bad-base64"])


def test_plain_fields() -> None:
    got = run("PLAIN", ("c", b64("\x00digitalinvestigator@networksims.com\x00napier123")))
    assert got == Decoded(
        username="digitalinvestigator@networksims.com", secret=Secret("napier123")
    )
    got = run("PLAIN", ("c", b64("admin\x00bob\x00pw")))
    assert (got.authzid, got.username, got.secret) == ("admin", "bob", Secret("pw"))


def test_plain_empty_authcid_falls_back_to_authzid() -> None:
    got = run("PLAIN", ("c", b"dXNlcm5hbWUAAHBhc3N3b3Jk"))
    assert got == Decoded(
        username="username", authzid="username", secret=Secret("password"), flags=["empty-authcid"]
    )


def test_plain_empty_and_malformed() -> None:
    assert run("PLAIN", ("c", b"")).flags == ["empty-response"]
    assert run("PLAIN", ("c", b64("one\x00two\x00three\x00four"))).flags == ["malformed"]
    got = run("PLAIN", ("c", b64("bob\x00pw")))
    assert (got.username, got.secret, got.flags) == ("bob", Secret("pw"), ["malformed"])


def test_plain_binary_password_is_escaped() -> None:
    got = run("PLAIN", ("c", b64(b"\x00bob\x00\xff\xfe")))
    assert got.secret == Secret("\\xff\\xfe")


CRAM_CHALLENGE = b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
CRAM_RESPONSE = b"dXNlcm5hbWUgMDZkMGEzMjVmMDU0NjQ4NjQ2ZTA3MmNkNGZlYjE3YzQ="


def test_cram_md5_line_keeps_base64_as_sent() -> None:
    got = run("CRAM-MD5", ("s", CRAM_CHALLENGE), ("c", CRAM_RESPONSE))
    assert got == Decoded(
        username="username",
        secret=Secret(
            f"$cram_md5${CRAM_CHALLENGE.decode()}${CRAM_RESPONSE.decode()}", SecretKind.CRAM_MD5
        ),
    )


def test_cram_md5_user_with_space_and_missing_challenge() -> None:
    got = run("CRAM-MD5", ("c", b64("john smith " + "0" * 32)))
    assert (got.username, got.secret, got.flags) == ("john smith", None, ["no-challenge"])
    assert run("CRAM-MD5", ("s", CRAM_CHALLENGE), ("c", b64("nodigest"))).flags == ["malformed"]


def test_ntlm_without_initial_response() -> None:
    got = run("NTLM", ("s", b""), ("c", CORPUS_TYPE1), ("s", CORPUS_TYPE2), ("c", CORPUS_TYPE3))
    assert got == Decoded(
        username="SMTPDOM\\jack", secret=Secret(CORPUS_V1_LINE, SecretKind.NETNTLMV1)
    )


def test_ntlm_with_initial_response_and_exchange_style_prompt() -> None:
    got = run(
        "NTLM",
        ("c", CORPUS_TYPE1),
        ("s", b"NTLM supported"),
        ("s", CORPUS_TYPE2),
        ("c", CORPUS_TYPE3),
    )
    assert got.secret == Secret(CORPUS_V1_LINE, SecretKind.NETNTLMV1)


def test_ntlm_flags() -> None:
    assert run("NTLM", ("c", CORPUS_TYPE3)).flags == ["no-challenge"]
    anonymous = b64(authenticate(b"\x00", b"", "", "", "PC"))
    assert run("NTLM", ("s", CORPUS_TYPE2), ("c", anonymous)).flags == ["anonymous"]
    assert run("NTLM", ("c", b64("not ntlm"))).flags == ["malformed"]
    assert run("NTLM", ("c", b64(b"NTLMSSP\x00\x03\x00\x00\x00"))).flags == ["malformed"]


def test_ntlm_completeness() -> None:
    mech = decoder_for("NTLM")
    mech.response(CORPUS_TYPE1)
    assert not mech.complete
    mech.response(CORPUS_TYPE3)
    assert mech.complete


DIGEST_CHALLENGE = (
    b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",'
    b"algorithm=md5-sess,charset=utf-8"
)
DIGEST_RESPONSE = (
    b'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",'
    b'nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",'
    b"response=d388dad90d4bbd760a152321f2143af7,qop=auth"
)
DIGEST_LINE = (
    "$digest-md5$chris$elwood.innosoft.com$OA6MG9tEQGm2hh$OA6MHXh6VqTrRk$00000001$auth"
    "$imap/elwood.innosoft.com$$d388dad90d4bbd760a152321f2143af7$utf-8"
)


def test_digest_md5_rfc2831_example() -> None:
    got = run(
        "DIGEST-MD5",
        ("s", b64(DIGEST_CHALLENGE)),
        ("c", b64(DIGEST_RESPONSE)),
        ("s", b64("rspauth=ea40f60335c427b5527b84dbabcdfffd")),
        ("c", b""),
    )
    assert got == Decoded(username="chris", secret=Secret(DIGEST_LINE, SecretKind.DIGEST_MD5))


def test_digest_md5_response_to_another_nonce_is_flagged() -> None:
    got = run("DIGEST-MD5", ("s", b64(b'nonce="abc",qop="auth"')), ("c", b64(DIGEST_RESPONSE)))
    assert (got.username, got.flags) == ("chris", ["nonce-mismatch"])


def test_digest_directives_quoting_and_percent_encoding() -> None:
    assert directives(b'a="x\\"y", B=tok ,c=""') == {"a": b'x"y', "b": b"tok", "c": b""}
    response = b'username="a$b%c",response=00,authzid="boss"'
    got = run("DIGEST-MD5", ("c", b64(response)))
    assert got.username == "a$b%c"
    assert got.authzid == "boss"
    assert got.secret is not None
    assert got.secret.value == "$digest-md5$a%24b%25c$$$$$$$boss$00$"
    assert run("DIGEST-MD5", ("c", b64(b'realm="x"'))).flags == ["malformed"]


def test_scram_sha_1_rfc5802() -> None:
    got = run(
        "SCRAM-SHA-1",
        ("c", b64("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")),
        ("s", b64("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")),
        (
            "c",
            b64(
                "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
            ),
        ),
        ("s", b64("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")),
        ("c", b""),
    )
    auth_message = (
        b"n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
        b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"
    )
    line = (
        "$scram$SHA-1$4096$QSXCR+Q6sek8bf92$"
        + b64(auth_message).decode()
        + "$v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    )
    assert got == Decoded(username="user", secret=Secret(line, SecretKind.SCRAM))


def test_scram_authzid_saslname_and_missing_server_first() -> None:
    got = run(
        "SCRAM-SHA-256-PLUS",
        ("c", b64("p=tls-unique,a=adm=2Cin,n=us=3Der,r=abc")),
        ("c", b64("c=xyz,r=abcdef,p=AAAA")),
    )
    assert (got.username, got.authzid, got.secret, got.flags) == (
        "us=er",
        "adm,in",
        None,
        ["no-challenge"],
    )
    assert run("SCRAM-SHA-1", ("c", b64("x"))).flags == ["malformed"]


def test_xoauth2() -> None:
    got = run(
        "XOAUTH2",
        ("c", b64("user=someone@example.com\x01auth=Bearer ya29.vF9dft4qmTc2\x01\x01")),
        ("s", b64('{"status":"401"}')),
        ("c", b""),
    )
    assert got == Decoded(
        username="someone@example.com", secret=Secret("ya29.vF9dft4qmTc2", SecretKind.BEARER_TOKEN)
    )


def test_oauthbearer_rfc7628() -> None:
    blob = (
        "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
        "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
    )
    got = run("OAUTHBEARER", ("c", b64(blob)))
    assert got == Decoded(
        username="user@example.com",
        authzid="user@example.com",
        secret=Secret("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", SecretKind.BEARER_TOKEN),
    )
    assert run("OAUTHBEARER", ("c", b64("n,,\x01auth=Basic x\x01\x01"))).flags == ["malformed"]


def test_gssapi_and_unknown_mechanisms_are_flagged_only() -> None:
    got = run("GSSAPI", ("c", b64(b"\x60\x82token")), ("s", b""), ("c", b""))
    assert got == Decoded(flags=["not-decoded"])
    assert run("X-MYAUTH", ("c", b"abcd")).flags == ["unknown-mechanism"]
    assert not decoder_for("GSSAPI").complete


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_every_registered_decoder_survives_garbage(name: str) -> None:
    mech = decoder_for(name)
    assert mech.name == name
    for text in (
        b"",
        b"*",
        b"!!!",
        b64(b"\x00" * 40),
        b64(b"NTLMSSP\x00\x03" + b"\xff" * 80),
        b64(b"n,,n=,r=,s=,i=x"),
        b64(b'username="",response=zz'),
    ):
        mech.challenge(text)
        mech.response(text)
    assert isinstance(mech.decoded, Decoded)
