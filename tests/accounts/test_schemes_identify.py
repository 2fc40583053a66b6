"""identify(): Dovecot's prefix rules, passdb defaults, ambiguities, verdicts and refusals."""

from __future__ import annotations

import pytest

from authaudit.accounts.schemes import (
    CostClass,
    Family,
    Problem,
    SchemeInfo,
    UnknownScheme,
    identify,
    make_verifier,
    verifier_backend,
)
from authaudit.accounts.schemes_digest import otp_hash

MD5_CRYPT = "$1$J2cKQ9EG$.04EE1tOj3FZtRJSaJlBW/"  # Tr0ub4dor&3, from doveadm
PLAIN_MD5_HEX = "4ece57a61323b52ccffdbef021956754"
SHA512_CRYPT = (
    "$6$Ab3dEf9h$XuzJmfX1DtjxWvFUOjI9HaIip9qPnn38f2XAR99Fo4qZeMlawKx85lFvr1bNSXIB.ZhMaIs7y"
    "HzwlvFua1sP3."
)
ARGON2ID = (
    "$argon2id$v=19$m=65536,t=3,p=1$aaKPBy6Jx84qQpZH5Ci7Gw"
    "$6MFNI8jVZowfA4/rgif1Z+Wu38tJ3DVd72Bu9qkNqOg"
)
PASSWORD = "Tr0ub4dor&3"


def known(stored: str, default_scheme: str | None = None) -> SchemeInfo:
    """identify() that must succeed."""
    info = identify(stored, default_scheme=default_scheme)
    assert isinstance(info, SchemeInfo), info
    return info


def unknown(stored: str, default_scheme: str | None = None) -> UnknownScheme:
    """identify() that must refuse."""
    info = identify(stored, default_scheme=default_scheme)
    assert isinstance(info, UnknownScheme), info
    assert "internal error" not in info.reason
    return info


def verifies(info: SchemeInfo, password: str = PASSWORD) -> bool:
    """True when ``password`` verifies against ``info``."""
    verify = make_verifier(info)
    assert verify is not None
    return verify(password)


class TestMd5Ambiguity:
    """Dovecot's MD5 scheme is MD5-crypt for $1$ data and PLAIN-MD5 otherwise."""

    def test_md5_crypt(self) -> None:
        info = known("{MD5}" + MD5_CRYPT)
        assert (info.name, info.declared, info.family) == ("MD5-CRYPT", "MD5", Family.CRYPT)
        assert verifies(info)

    @pytest.mark.parametrize(
        "data", [PLAIN_MD5_HEX, PLAIN_MD5_HEX.upper(), "Ts5XphMjtSzP/b7wIZVnVA=="]
    )
    def test_plain_md5_hex_or_base64(self, data: str) -> None:
        info = known("{MD5}" + data)
        assert (info.name, info.declared) == ("PLAIN-MD5", "MD5")
        assert info.notes and "PLAIN-MD5" in info.notes[0]
        assert verifies(info)

    def test_neither(self) -> None:
        info = unknown("{MD5}not-a-hash")
        assert info.problem is Problem.MALFORMED and info.declared == "MD5"

    def test_sql_default_md5(self) -> None:
        """Dovecot 2.3 SQL passdbs default to MD5: bare hex is PLAIN-MD5, bare $1$ MD5-crypt."""
        assert known(PLAIN_MD5_HEX, "MD5").name == "PLAIN-MD5"
        assert known(MD5_CRYPT, "MD5").name == "MD5-CRYPT"
        assert unknown(SHA512_CRYPT, "MD5").problem is Problem.MALFORMED


class TestDefaults:
    """Values without a prefix: the passdb default, or any crypt(3) string."""

    def test_bare_crypt_without_default(self) -> None:
        info = known(SHA512_CRYPT)
        assert (info.name, info.declared, info.cost.rounds) == ("SHA512-CRYPT", None, 5000)

    def test_bare_crypt_with_crypt_default(self) -> None:
        assert known(SHA512_CRYPT, "CRYPT").declared == "CRYPT"

    def test_bare_md5_crypt_wins_over_any_default(self) -> None:
        info = known(MD5_CRYPT + "$junk", "PLAIN")
        assert (info.name, info.declared) == ("MD5-CRYPT", None)
        assert verifies(info)

    def test_plain_default(self) -> None:
        info = known("hunter2", "PLAIN")
        assert info.cleartext is not None and info.cleartext.value == "hunter2"
        assert known("", "PLAIN").cleartext is not None

    def test_prefix_beats_default(self) -> None:
        assert known("{PLAIN}x", "CRYPT").name == "PLAIN"

    def test_hex_digest_with_crypt_default_is_not_guessed(self) -> None:
        info = unknown(PLAIN_MD5_HEX, "CRYPT")
        assert info.problem is Problem.MALFORMED and "hex digest" in info.reason
        assert unknown(PLAIN_MD5_HEX).problem is Problem.UNRECOGNISED

    def test_unknown_default(self) -> None:
        assert unknown("x", "NOPE").problem is Problem.UNKNOWN_SCHEME


class TestRefusals:
    """Unknown, empty, locked and malformed values say why."""

    def test_unknown_scheme(self) -> None:
        info = unknown("{FOO}bar")
        assert (info.declared, info.problem) == ("FOO", Problem.UNKNOWN_SCHEME)
        assert "FOO" in info.reason and "bar" not in info.reason

    def test_unknown_encoding(self) -> None:
        info = unknown("{SHA1.rot13}x")
        assert info.problem is Problem.UNKNOWN_SCHEME and "rot13" in info.reason

    @pytest.mark.parametrize("stored", ["", "{CRYPT}", "{SHA512-CRYPT}"])
    def test_empty(self, stored: str) -> None:
        assert unknown(stored).problem is Problem.EMPTY

    @pytest.mark.parametrize("stored", ["!", "*", "!!", "!" + SHA512_CRYPT, "*LK*"])
    def test_locked(self, stored: str) -> None:
        assert unknown(stored).problem is Problem.LOCKED

    @pytest.mark.parametrize(
        ("stored", "problem"),
        [
            ("{SHA256}a", Problem.BAD_ENCODING),
            ("{SHA256}abcd", Problem.MALFORMED),
            ("{SHA256}" + "ab" * 31, Problem.MALFORMED),
            ("{SHA1.HEX}zz", Problem.BAD_ENCODING),
            ("{SSHA}h0Vy56WuaklGamrFeLmK26eMaqY=", Problem.MALFORMED),
            ("{PLAIN-TRUNC}abc", Problem.MALFORMED),
            ("{PBKDF2}$1$salt$0$" + "0" * 40, Problem.MALFORMED),
            ("{SCRAM-SHA-1}4096,c2FsdA==,AAAA,AAAA", Problem.MALFORMED),
            ("{OTP}sha1 x seed 0011", Problem.MALFORMED),
            ("{MD5-CRYPT}" + SHA512_CRYPT, Problem.MALFORMED),
            ("{CRYPT}$6$salt$short", Problem.MALFORMED),
            ("$2y$99$" + "a" * 53, Problem.MALFORMED),
            ("$y$!!$salt$hash", Problem.MALFORMED),
            ("$argon2id$v=19$m=1$x$y", Problem.MALFORMED),
            ("$9$abc", Problem.UNRECOGNISED),
            ("{ARGON2ID}" + SHA512_CRYPT, Problem.MALFORMED),
            ("{PLAIN.B64}%%%%", Problem.BAD_ENCODING),
            ("{SHA1}é", Problem.BAD_ENCODING),
        ],
    )
    def test_malformed(self, stored: str, problem: Problem) -> None:
        assert unknown(stored).problem is problem


class TestSchemes:
    """Scheme-specific parsing, notes and verdicts."""

    def test_case_insensitive_prefix_and_suffix(self) -> None:
        info = known("{plain.b64}VHIwdWI0ZG9yJjM=")
        assert (info.name, info.declared, info.encoding) == ("PLAIN", "PLAIN", "b64")
        assert info.cleartext is not None and info.cleartext.value == PASSWORD
        assert info.reversible and info.weak is None

    def test_sha256_hex_guess(self) -> None:
        info = known("{SHA256}48486e1514e842346ff405b1e45f44059ae82619f2306f99d0940dcb386e91f7")
        assert info.encoding == "hex" and verifies(info)

    def test_declared_crypt_method_differs_from_data(self) -> None:
        info = known("{SHA512-CRYPT}" + MD5_CRYPT)
        assert info.name == "MD5-CRYPT" and "declared SHA512-CRYPT" in info.notes[0]

    def test_argon2_variants(self) -> None:
        info = known("{ARGON2I}" + ARGON2ID)
        assert info.name == "ARGON2ID" and "declared ARGON2I" in info.notes[0]
        assert known(ARGON2ID).notes == ()
        assert "no argon2" in known("{CRYPT}" + ARGON2ID).notes[0]
        assert known("{ARGON2}" + ARGON2ID).name == "ARGON2ID"

    def test_sha_crypt_rounds_below_minimum(self) -> None:
        info = known("$6$rounds=500$salt$" + "a" * 86)
        assert info.low_cost is not None and "500 rounds" in info.low_cost
        assert any("1000" in note for note in info.notes)

    def test_scram_below_dovecot_minimum(self) -> None:
        key = "A" * 27 + "="
        info = known(f"{{SCRAM-SHA-1}}1000,c2FsdA==,{key},{key}")
        assert info.cost.iterations == 1000 and info.low_cost is not None
        assert "4096" in info.notes[0]

    def test_cost_classes(self) -> None:
        assert known("{PLAIN}x").cost_class is CostClass.CHEAP
        assert known("{SHA1}h0Vy56WuaklGamrFeLmK26eMaqY=").cost_class is CostClass.CHEAP
        assert known(SHA512_CRYPT).cost_class is CostClass.MODERATE
        assert known(ARGON2ID).cost_class is CostClass.SLOW
        assert known("$2y$12$" + "a" * 53).cost_class is CostClass.SLOW

    def test_repr_hides_secrets(self) -> None:
        info = known("{PLAIN}s3cret-value")
        assert "s3cret" not in repr(info) and "s3cret" not in str(info.cleartext)
        hashed = known(SHA512_CRYPT)
        assert "XuzJmfX1" not in repr(hashed)

    def test_cost_pairs(self) -> None:
        pairs = dict(known(ARGON2ID).cost.as_pairs())
        assert pairs == {"memory_kib": "65536", "time_cost": "3", "parallelism": "1"}

    def test_ntlm_and_lanman(self) -> None:
        """Dovecot 2.2 schemes, still seen in old stores (well-known vectors for "password")."""
        ntlm = known("{NTLM}8846f7eaee8fb117ad06bdd830b7586c")
        lanman = known("{LANMAN}e52cac67419a9a224a3b108f3fa6cb6d")
        for info in (ntlm, lanman):
            assert info.weak is not None
            assert verifies(info, "password") and not verifies(info, "Password1")
        assert verifies(lanman, "PASSWORD") and lanman.truncates_at == 14

    def test_rpa_has_no_verifier(self) -> None:
        info = known("{RPA}" + "0" * 32)
        assert info.weak is not None and make_verifier(info) is None
        assert verifier_backend(info) is None

    @pytest.mark.parametrize("algo", ["md4", "md5", "sha1"])
    def test_otp_algorithms(self, algo: str) -> None:
        """RFC 2289 appendix C vectors ("This is a test.", seed "TeSt"), via the OTP scheme."""
        value = otp_hash(algo, "test", b"This is a test.", 99).hex()
        expected = {"md4": "c5e612776e6c237a", "md5": "50fe1962c4965880"}
        assert value == expected.get(algo, "87fec7768b73ccf9")
        info = known(f"{{SKEY}}{algo} 99 TeSt {value.upper()}")
        assert info.name == "OTP" and info.cost.iterations == 99
        assert verifies(info, "This is a test.") and not verifies(info, "This is a test!")

    def test_unknown_scheme_has_no_verifier(self) -> None:
        assert make_verifier(unknown("{FOO}bar")) is None

    def test_pbkdf2_and_scram_verdicts(self) -> None:
        pbkdf2 = known("{PBKDF2}$1$KkpmVq1/eeNVKQmD$5000$91e2fec79aea22abdc3ecf7a54060ac9636f9846")
        assert pbkdf2.weak is None and pbkdf2.low_cost is not None and verifies(pbkdf2)
        assert known("{PBKDF2}$1$s$10000$" + "0" * 40).low_cost is None

    def test_bcrypt_2x_only_through_libcrypt(self) -> None:
        info = known("$2x$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui")
        assert verifier_backend(info) == "libcrypt crypt_rn"
