"""Build hook: compile authaudit's per-packet and per-line hot paths to C with mypyc.

The metadata lives in ``pyproject.toml``; this file only adds the extension modules. mypyc
(part of mypy, which the test suite runs anyway) turns the already strictly typed modules below
into C extensions with the same behaviour: 1.4x to 1.7x less time on the capture and mail-log
benchmarks (see docs/performance.md). Everything else stays Python.

The compiled build is the default. It falls back to the plain Python package, with a warning,
when mypyc cannot be imported or a module does not compile (no C compiler or Python headers:
each extension is optional), and it is skipped on request with ``AUTHAUDIT_PURE=1`` (for example
while editing these modules: an editable install puts the ``.so`` files beside the sources, and
a stale one would shadow the edited ``.py``; ``tests/test_build.py`` checks for that).
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

COMPILED = [
    # capture decoding: one call per packet, segment and SMTP line
    "authaudit/pcap/ip.py",
    "authaudit/pcap/link.py",
    "authaudit/pcap/stream.py",
    "authaudit/pcap/_sides.py",
    "authaudit/pcap/reassembly.py",
    "authaudit/pcap/decode.py",
    "authaudit/pcap/reader.py",
    "authaudit/smtp/buffer.py",
    "authaudit/smtp/commands.py",
    "authaudit/smtp/conversation.py",
    "authaudit/smtp/detect.py",
    "authaudit/smtp/events.py",
    "authaudit/smtp/pairing.py",
    "authaudit/smtp/replies.py",
    "authaudit/smtp/session.py",
    "authaudit/smtp/states.py",
    "authaudit/smtp/text.py",
    "authaudit/smtp/attempt.py",
    "authaudit/smtp/b64.py",
    "authaudit/smtp/mechanisms.py",
    "authaudit/smtp/ntlm.py",
    "authaudit/smtp/sasl.py",
    "authaudit/smtp/tls.py",
    # per AUTH attempt: grouping into findings, and the output rows
    "authaudit/checks/exposures.py",
    "authaudit/formats/rows.py",
    # mail logs: one call per line
    "authaudit/logs/fastscan.py",
    "authaudit/logs/syslog.py",
    "authaudit/logs/timestamps.py",
    "authaudit/logs/postfix.py",
    "authaudit/logs/postfix_lines.py",
    "authaudit/logs/postfix_queue.py",
    "authaudit/logs/dovecot.py",
    "authaudit/logs/exim.py",
    "authaudit/logs/exim_fields.py",
    "authaudit/logs/sendmail.py",
    "authaudit/logs/qmail.py",
    "authaudit/logs/qmail_lines.py",
    "authaudit/logs/courier.py",
]
"""Modules compiled by mypyc. Not listed: modules with runtime-checkable Protocols (mypyc
cannot compile those) and everything that runs once per input rather than once per item."""


def _warn(text: str) -> None:
    sys.stderr.write(f"authaudit build: {text}; installing the plain Python package\n")


def extensions() -> list[Extension]:
    """The mypyc extensions, or none (plain Python) when they cannot or should not be built."""
    if os.environ.get("AUTHAUDIT_PURE"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not available")
        return []
    try:
        # The build environment has none of the third-party packages or their stubs: the
        # compiled modules do not import them, but modules they import do. Errors there are the
        # strict mypy run's business (make test), not the build's.
        modules = mypycify(["--follow-imports=silent", "--ignore-missing-imports", *COMPILED],
                           opt_level="3", group_name="authaudit")
    except (Exception, SystemExit) as exc:  # mypyc reports type errors by exiting
        _warn(f"mypyc could not translate the hot modules ({exc})")
        return []
    for module in modules:
        module.optional = True  # no compiler or headers: build_ext warns and goes on
    return list(modules)


setup(ext_modules=extensions())
