"""Secrets are only revealed on request, and fingerprints are stable within a run."""

from __future__ import annotations

from authaudit.redact import Redactor, Secret, SecretKind


def test_secret_never_prints_its_value() -> None:
    s = Secret("hunter2", SecretKind.CLEARTEXT)
    assert "hunter2" not in str(s)
    assert "hunter2" not in repr(s)


def test_redacted_text_is_a_keyed_fingerprint() -> None:
    r = Redactor(key=b"k" * 16)
    a = r.text(Secret("hunter2"))
    assert a.startswith("redacted:")
    assert len(a) == len("redacted:") + 8
    assert a == r.text(Secret("hunter2"))
    assert a != r.text(Secret("hunter3"))
    assert a != Redactor(key=b"j" * 16).text(Secret("hunter2"))


def test_show_secrets_reveals_value() -> None:
    assert Redactor(show_secrets=True).text(Secret("hunter2")) == "hunter2"
    assert Redactor().text(None) == ""
