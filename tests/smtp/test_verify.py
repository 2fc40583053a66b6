"""Offline verification against published test vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from authaudit.redact import Secret, SecretKind
from authaudit.smtp.mechanisms import decoder_for
from authaudit.smtp.verify import make_verifier, nt_hash, verify
from tests.smtp.helpers import b64
from tests.smtp.ntlm_data import CORPUS_V1_LINE, SPEC_V2_BLOB
from tests.smtp.test_mechanisms import DIGEST_LINE


def cram(challenge: bytes, response: bytes) -> Secret:
    return Secret(
        f"$cram_md5${b64(challenge).decode()}${b64(response).decode()}", SecretKind.CRAM_MD5
    )


def test_cram_md5_rfc2195() -> None:
    secret = cram(
        b"<1896.697170952@postoffice.reston.mci.net>", b"tim b913a602c7eda7a495b4e6e7334d3890"
    )
    assert verify(secret, "tanstaaftanstaaf")
    assert not verify(secret, "tanstaaftanstaaF")


def test_cram_md5_corpus_password() -> None:
    secret = Secret(
        "$cram_md5$PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
        "$dXNlcm5hbWUgMDZkMGEzMjVmMDU0NjQ4NjQ2ZTA3MmNkNGZlYjE3YzQ=",
        SecretKind.CRAM_MD5,
    )
    assert verify(secret, "password")
    assert not verify(secret, "Password")


def test_nt_hash_ms_nlmp() -> None:
    assert nt_hash("Password").hex() == "a4f49c406510bdcab6824ee7c30fd852"


V1 = (
    "User::Domain:98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13"
    ":67c43011f30298a2ad35ece64f16331c44bdbed927841f94:0123456789abcdef"
)
V1_ESS = (
    "User::Domain:aaaaaaaaaaaaaaaa"
    + "00" * 16
    + ":7537f803ae367128ca458204bde7caf81e97ed2683267232:0123456789abcdef"
)


@pytest.mark.parametrize("line", [V1, V1_ESS], ids=["ntlmv1", "ntlmv1-ess"])
def test_netntlmv1_ms_nlmp(line: str) -> None:
    secret = Secret(line, SecretKind.NETNTLMV1)
    assert verify(secret, "Password")
    assert not verify(secret, "password")


def test_netntlmv2_ms_nlmp() -> None:
    line = "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:" + SPEC_V2_BLOB.hex()
    secret = Secret(line, SecretKind.NETNTLMV2)
    assert verify(secret, "Password")
    assert not verify(secret, "Password1")


def test_digest_md5_rfc2831() -> None:
    secret = Secret(DIGEST_LINE, SecretKind.DIGEST_MD5)
    assert verify(secret, "secret")
    assert not verify(secret, "Secret")


def scram_secret(name: str, client_first: str, server_first: str, client_final: str) -> Secret:
    mech = decoder_for(name)
    mech.response(b64(client_first))
    mech.challenge(b64(server_first))
    mech.response(b64(client_final))
    assert mech.decoded.secret is not None
    return mech.decoded.secret


def test_scram_sha_1_rfc5802() -> None:
    secret = scram_secret(
        "SCRAM-SHA-1",
        "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    )
    assert verify(secret, "pencil")
    assert not verify(secret, "pencil2")


def test_scram_sha_256_rfc7677() -> None:
    secret = scram_secret(
        "SCRAM-SHA-256",
        "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    )
    assert verify(secret, "pencil")
    assert not verify(secret, "Pencil")


@pytest.mark.parametrize(
    "secret",
    [
        Secret("password"),
        Secret("token", SecretKind.BEARER_TOKEN),
        Secret("$cram_md5$only-two", SecretKind.CRAM_MD5),
        Secret("x:y", SecretKind.NETNTLMV1),
        Secret("u::d:zz:zz:zz", SecretKind.NETNTLMV2),
        Secret("$digest-md5$too$few", SecretKind.DIGEST_MD5),
        Secret("$scram$MD2$1$a$b$c", SecretKind.SCRAM),
        Secret("$scram$SHA-1$0$a$b$c", SecretKind.SCRAM),
    ],
)
def test_unverifiable_secrets_give_no_verifier(secret: Secret) -> None:
    assert make_verifier(secret) is None
    assert not verify(secret, "password")


def test_netntlmv1_checks_many_candidates_quickly() -> None:
    check = make_verifier(Secret(CORPUS_V1_LINE, SecretKind.NETNTLMV1))
    assert check is not None
    words = [f"candidate{i}" for i in range(300)]
    start = time.perf_counter()
    assert not any(check(w) for w in words)
    assert (time.perf_counter() - start) / len(words) < 2e-3  # ~0.1 ms each with pure-Python MD4


def test_verifier_is_reusable_and_precomputed() -> None:
    check = make_verifier(Secret(DIGEST_LINE, SecretKind.DIGEST_MD5))
    assert check is not None
    assert [check(w) for w in ("a", "secret", "b", "secret")] == [False, True, False, True]


def test_candidates_that_are_not_utf8_never_raise() -> None:
    """Wordlist lines with undecodable bytes arrive as surrogate escapes (wordlists.py)."""
    challenge = b"<1.2@mx>"
    raw_password = b"caf\xe9"  # Latin-1, not UTF-8
    digest = hmac.new(raw_password, challenge, hashlib.md5).hexdigest()
    line = "$cram_md5${}${}".format(
        base64.b64encode(challenge).decode(), base64.b64encode(f"u {digest}".encode()).decode()
    )
    check = make_verifier(Secret(line, SecretKind.CRAM_MD5))
    assert check is not None
    assert check(raw_password.decode("utf-8", "surrogateescape"))
    ntlm = "jack::D:0123456789abcdef:" + "00" * 16 + ":" + "11" * 20
    ntlm_check = make_verifier(Secret(ntlm, SecretKind.NETNTLMV2))
    assert ntlm_check is not None
    assert ntlm_check("\udcff") is False
