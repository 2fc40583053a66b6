"""Real-traffic lab: SMTP AUTH logins against a private Postfix + Dovecot, captured with tcpdump.

What it does
------------
:func:`run_lab` builds a throw-away mail system on loopback and records real SMTP AUTH traffic:

1. In a fresh temporary directory (mode 0755, so that the ``postfix`` and ``dovecot`` users can
   reach the sockets and files in it) it writes

   * a private Dovecot configuration, run as ``dovecot -F -c <conf>``: own ``base_dir``,
     ``state_dir`` and log file, ``protocols = none`` (no listening port), ``ssl = no``,
     ``disable_plaintext_auth = no``, ``auth_mechanisms = plain login cram-md5``, a
     ``passwd-file`` passdb with ``{PLAIN}`` passwords (CRAM-MD5 needs them retrievable), an
     ``auth-postfix`` listener (mode 0666) for Postfix and the auth penalty switched off;
   * a private Postfix configuration directory, run as ``postfix -c <dir> start`` (as root,
     ``-c`` needs no ``alternate_config_directories`` entry in the system ``main.cf``): own
     ``queue_directory``/``data_directory``/``maillog_file``, no chroot, Dovecot SASL
     (``smtpd_sasl_type = dovecot``), ``smtpd_tls_security_level = none``,
     ``smtpd_sasl_security_options = noanonymous`` (plaintext mechanisms allowed without TLS), no
     DNS, no delivery. ``postfix start`` runs the same checks as ``postfix check`` and waits until
     master has bound its listeners; it stops with ``postfix -c <dir> stop``.

   Nothing under ``/etc`` is read or changed except the packaged files Postfix always reads
   (``postfix-files``, ``dynamicmaps.cf``); a system Postfix or Dovecot is left alone.
2. Postfix listens on ``<server_ip>:25`` and ``<server_ip>:587`` (explicit master.cf entries)
   where ``server_ip`` is ``127.0.0.2``, or the first free of a few ``127.0.25.x``, so that an MTA
   on ``127.0.0.1:25`` does not clash (all of ``127.0.0.0/8`` is loopback on Linux; an MTA on
   ``0.0.0.0:25`` does clash, and the lab then fails with a message saying so). Clients connect
   from ``127.0.0.1``, each connection from a different source port.
3. ``tcpdump -i lo --immediate-mode -U -w <outdir>/lab.pcap`` captures ``tcp and host
   <server_ip> and (port 25 or port 587)``. The harness waits for tcpdump's "listening on" line
   before sending anything, stops it with SIGINT after the last connection has closed, and then
   checks that every connection was captured from its SYN to both FINs (``--immediate-mode``
   matters: with block buffering the last packets are lost on SIGINT).
4. A fixed script of AUTH attempts runs from swaks (one attempt per connection, ``--quit-after
   AUTH``, ``--local-port`` chosen by the harness) and from :mod:`smtplib` (several attempts per
   connection, source port chosen by the harness too): LOGIN, PLAIN and CRAM-MD5 with right and
   wrong passwords on ports 25 and 587 from both tools, wrong-then-right in one connection, an
   unknown user, a non-ASCII (UTF-8) password, PLAIN without initial response, a LOGIN cancelled
   with ``*`` after the username, and an AUTH refused with 503 because the connection is already
   authenticated. Every final reply is checked against the scripted outcome (235, 535, 503,
   501), so a misbehaving server fails the lab instead of producing a wrong ground truth.
5. Into the output directory it writes the capture, ``lab.truth.tsv`` (header line, then one row
   per attempt in sending order: ``client_ip client_port server_ip server_port mechanism username
   password outcome reply_code reply_text tool``; ``reply_text`` is the last reply line without
   the code, as the client received it; username/password are empty when none was sent),
   ``lab.wordlist.txt`` (every password used, right and wrong, for ``--wordlist``) and the
   servers' logs (``lab.postfix.log``, ``lab.dovecot.log``). It stops every process it started
   and removes the temporary directory, also when something failed.

A run takes about 11 s: ~2.5 s for Postfix's first start (it creates its queue), ~7 s of traffic
(Dovecot answers each failed login on a 0.5 s timer, whatever ``auth_failure_delay`` says) and ~2
s to stop. Every wait has a timeout, so a run is bounded well below 60 s. It needs root (tcpdump,
Postfix's master) and the Debian packages ``postfix``, ``dovecot-core``, ``swaks`` and
``tcpdump``, which ``make test`` installs; no configuration by hand.

How to run it
-------------
By hand or from ``make lab``::

    python -m tests.lab.lab lab-out/
    authaudit pcap --wordlist lab-out/lab.wordlist.txt lab-out/lab.pcap

From pytest, ``pytest -m lab tests/lab``: ``tests/lab/test_lab.py`` runs the lab once and compares
``authaudit pcap --format jsonl`` output with the ground truth, attempt by attempt.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import enum
import logging
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "CAPTURE_NAME",
    "PROGRAMS",
    "TRUTH_COLUMNS",
    "TRUTH_NAME",
    "WORDLIST_NAME",
    "Attempt",
    "LabError",
    "LabResult",
    "Outcome",
    "find_program",
    "main",
    "missing_programs",
    "read_truth",
    "run_lab",
]

log = logging.getLogger(__name__)

PROGRAMS = ("postfix", "dovecot", "swaks", "tcpdump")
"""Programs the lab needs (Debian packages postfix, dovecot-core, swaks, tcpdump)."""

CAPTURE_NAME = "lab.pcap"
TRUTH_NAME = "lab.truth.tsv"
WORDLIST_NAME = "lab.wordlist.txt"
TRUTH_COLUMNS = (
    "client_ip",
    "client_port",
    "server_ip",
    "server_port",
    "mechanism",
    "username",
    "password",
    "outcome",
    "reply_code",
    "reply_text",
    "tool",
)

CLIENT_IP = "127.0.0.1"
SERVER_IP_CANDIDATES = ("127.0.0.2", "127.0.25.2", "127.0.25.3", "127.0.25.4", "127.0.25.5")
SMTP_PORT = 25
SUBMISSION_PORT = 587
HELO_NAME = "client.lab.authaudit.test"
SERVER_NAME = "mx.lab.authaudit.test"

STEP_TIMEOUT = 10.0
"""Upper bound for any single wait: a server start, one client session, tcpdump start or stop."""
SETTLE_SECONDS = 0.3
"""Pause after the last session so the final FIN/ACK segments reach the capture."""

SNAPLEN = 16384
"""tcpdump snapshot length: far above any segment the lab sends."""
BUFFER_KIB = 32768
"""tcpdump capture buffer in KiB (default 2048)."""

_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
_LOG_NAMES = {"postfix/postfix.log": "lab.postfix.log", "dovecot/dovecot.log": "lab.dovecot.log"}
"""Server logs copied from the temporary directory into the output directory."""


class LabError(RuntimeError):
    """The lab could not be built or a server did not behave as scripted."""


class Outcome(enum.StrEnum):
    """Scripted result of one attempt (the values of the decoder's ``outcome`` field)."""

    SUCCESS = "success"
    FAILURE = "failure"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


_EXPECTED_CODE = {
    Outcome.SUCCESS: 235,
    Outcome.FAILURE: 535,
    Outcome.REJECTED: 503,
    Outcome.CANCELLED: 501,
}


@dataclass(frozen=True, slots=True)
class _Account:
    username: str
    password: str


ALICE = _Account("alice", "Lab-alice-Right-7Q")
ALICE_WRONG_PASSWORD = "Lab-alice-Wrong-3Z"
BOB = _Account("bob", "Lab-b\u00f8b-\u00dcn\u00efcode-9X")
"""A user whose password is not ASCII (sent as UTF-8)."""
MALLORY = _Account("mallory", "Lab-mallory-Guess-5K")
"""Not in the passdb: every attempt fails."""
_PASSDB = (ALICE, BOB)
_WORDLIST = (ALICE.password, ALICE_WRONG_PASSWORD, BOB.password, MALLORY.password)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One ground-truth row: an AUTH exchange as the client performed and saw it."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int
    mechanism: str
    username: str
    """Authentication identity sent, or ``""`` when the exchange ended before one was sent."""
    password: str
    """Password used, or ``""`` when none was sent."""
    outcome: Outcome
    reply_code: int
    reply_text: str
    """Last line of the server's final reply, without the code."""
    tool: str

    def row(self) -> list[str]:
        """The TSV cells, in :data:`TRUTH_COLUMNS` order."""
        return [
            self.client_ip,
            str(self.client_port),
            self.server_ip,
            str(self.server_port),
            self.mechanism,
            self.username,
            self.password,
            str(self.outcome),
            str(self.reply_code),
            self.reply_text,
            self.tool,
        ]

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Attempt:
        """Parse one row read with :class:`csv.DictReader` from a truth TSV."""
        return cls(
            client_ip=row["client_ip"],
            client_port=int(row["client_port"]),
            server_ip=row["server_ip"],
            server_port=int(row["server_port"]),
            mechanism=row["mechanism"],
            username=row["username"],
            password=row["password"],
            outcome=Outcome(row["outcome"]),
            reply_code=int(row["reply_code"]),
            reply_text=row["reply_text"],
            tool=row["tool"],
        )


@dataclass(frozen=True, slots=True)
class LabResult:
    """Where a lab run put its files, and what it sent."""

    capture: Path
    truth: Path
    wordlist: Path
    attempts: tuple[Attempt, ...]
    server_ip: str
    client_ip: str
    started: datetime
    """UTC time just before the first connection was opened."""
    finished: datetime
    """UTC time after the last connection was closed."""
    duration: float
    """Seconds for the whole run, servers' start and stop included."""
    packets_captured: int


def find_program(name: str) -> str | None:
    """Path of ``name`` on ``$PATH`` or in the sbin directories (not on a non-root ``$PATH``)."""
    found = shutil.which(name)
    if found is not None:
        return found
    return shutil.which(name, path=os.pathsep.join(_SBIN_DIRS))


def missing_programs() -> list[str]:
    """Those of :data:`PROGRAMS` that are not installed."""
    return [name for name in PROGRAMS if find_program(name) is None]


def read_truth(path: Path) -> list[Attempt]:
    """Read a ground-truth TSV written by :func:`run_lab`."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != TRUTH_COLUMNS:
            raise LabError(f"{path}: unexpected header {reader.fieldnames}")
        return [Attempt.from_row(row) for row in reader]


def write_truth(path: Path, attempts: Sequence[Attempt]) -> None:
    """Write the ground truth as a TSV with a header line (UTF-8, no quoting)."""
    for attempt in attempts:
        if any(("\t" in cell or "\n" in cell) for cell in attempt.row()):
            raise LabError(f"ground-truth cell with a tab or newline: {attempt!r}")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
        writer.writerow(TRUTH_COLUMNS)
        writer.writerows(attempt.row() for attempt in attempts)


def run_lab(outdir: Path, *, server_ip: str | None = None) -> LabResult:
    """Run the whole lab and write capture, ground truth and wordlist into ``outdir``.

    ``server_ip`` forces the loopback address Postfix listens on; by default the first of
    :data:`SERVER_IP_CANDIDATES` whose ports 25 and 587 are free is used.
    """
    if os.geteuid() != 0:
        raise LabError("the lab must run as root (tcpdump capture, Postfix master start-up)")
    missing = missing_programs()
    if missing:
        raise LabError(f"missing programs: {', '.join(missing)}")
    outdir.mkdir(parents=True, exist_ok=True)
    for name in (CAPTURE_NAME, TRUTH_NAME, WORDLIST_NAME, *_LOG_NAMES.values()):
        (outdir / name).unlink(missing_ok=True)  # never leave a stale ground truth behind
    t0 = time.monotonic()
    with _Lab(outdir, _pick_server_ip(server_ip)) as lab:
        lab.start_servers()
        lab.start_capture()
        started = datetime.now(UTC)
        lab.run_script()
        finished = datetime.now(UTC)
        time.sleep(SETTLE_SECONDS)
        packets = lab.stop_capture()
    attempts = tuple(lab.attempts)
    _check_capture(outdir / CAPTURE_NAME, lab.server_ip, attempts)
    truth = outdir / TRUTH_NAME
    write_truth(truth, attempts)
    wordlist = outdir / WORDLIST_NAME
    wordlist.write_text("".join(f"{word}\n" for word in _WORDLIST), encoding="utf-8")
    duration = time.monotonic() - t0
    log.info("lab: %d attempts, %d packets, %.1f s", len(attempts), packets, duration)
    return LabResult(
        capture=outdir / CAPTURE_NAME,
        truth=truth,
        wordlist=wordlist,
        attempts=attempts,
        server_ip=lab.server_ip,
        client_ip=CLIENT_IP,
        started=started,
        finished=finished,
        duration=duration,
        packets_captured=packets,
    )


# --------------------------------------------------------------------------------------------
# Servers and capture


def _program(name: str) -> str:
    path = find_program(name)
    if path is None:
        raise LabError(f"{name} is not installed")
    return path


def _can_listen(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def _pick_server_ip(requested: str | None) -> str:
    candidates = (requested,) if requested else SERVER_IP_CANDIDATES
    ports = (SMTP_PORT, SUBMISSION_PORT)
    for ip in candidates:
        busy = [port for port in ports if not _can_listen(ip, port)]
        if not busy:
            return ip
        log.info("lab: %s ports %s are in use, trying another address", ip, busy)
    raise LabError(
        f"ports {ports} are in use on {', '.join(candidates)}; is an MTA listening on"
        " 0.0.0.0:25 or 0.0.0.0:587? (the lab does not stop system services)"
    )


def _free_port(ip: str, used: set[int]) -> int:
    """A source port that is free right now and was not used before in this run, so that the
    client port alone tells the connections of a run apart."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((ip, 0))
            port: int = probe.getsockname()[1]
        if port not in used:
            used.add(port)
            return port
    raise LabError("no unused source port found")


def _user_or(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def _pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself hold spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _poll(condition: Callable[[], bool], what: str, timeout: float = STEP_TIMEOUT) -> None:
    """Wait until ``condition()`` is true, or raise :class:`LabError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"({path.name} was not written)"
    return "\n".join(text.splitlines()[-lines:])


def _unix_socket_accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _dovecot_conf(root: Path, passwd_file: Path) -> str:
    return f"""\
# authaudit lab: private Dovecot instance used only as Postfix's SASL server.
base_dir = {root}/run
state_dir = {root}/state
instance_name = authaudit-lab
log_path = {root}/dovecot.log
protocols = none
ssl = no
# Postfix talks to us without TLS; plaintext mechanisms must still be allowed.
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5
auth_verbose = yes
auth_failure_delay = 0
default_login_user = {_user_or("dovenull", "nobody")}
default_internal_user = {_user_or("dovecot", "nobody")}
passdb {{
  driver = passwd-file
  # {{PLAIN}} keeps passwords retrievable, which CRAM-MD5 needs.
  args = scheme=PLAIN {passwd_file}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
# No auth penalty (growing delays after repeated failures from one client IP).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _postfix_main_cf(root: Path, server_ip: str, sasl_path: Path) -> str:
    return f"""\
# authaudit lab: private Postfix instance (postfix -c {root}/etc).
compatibility_level = 3.6
queue_directory = {root}/spool
data_directory = {root}/data
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
myhostname = {SERVER_NAME}
mydomain = lab.authaudit.test
myorigin = $myhostname
mydestination =
relayhost =
mynetworks =
alias_maps =
alias_database =
# Must name an address that is configured on an interface; the listeners themselves are the
# explicit {server_ip}:25 and {server_ip}:587 entries in master.cf.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_banner = $myhostname ESMTP authaudit lab
smtpd_error_sleep_time = 0
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions =
smtpd_tls_security_level = none
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_path}
smtpd_sasl_security_options = noanonymous
broken_sasl_auth_clients = no
default_transport = discard
local_transport = discard
"""


def _postfix_master_cf(server_ip: str) -> str:
    sub = "-o syslog_name=postfix/submission -o smtpd_sasl_auth_enable=yes"
    return f"""\
# service type private unpriv chroot wakeup maxproc command
{server_ip}:{SMTP_PORT} inet n - n - - smtpd
{server_ip}:{SUBMISSION_PORT} inet n - n - - smtpd {sub}
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


class _Capture:
    """A running tcpdump writing a pcap file."""

    def __init__(self, path: Path, bpf: str) -> None:
        self.path = path
        self._lines: list[str] = []
        self._listening = threading.Event()
        # --immediate-mode: hand every packet to tcpdump at once; with the default TPACKET_V3
        # block buffering, packets still in the current block when SIGINT arrives are never
        # written. In immediate mode every ring slot is snaplen-sized: with lo's 64 KiB MTU and
        # the default 2 MiB buffer that is ~30 slots, and bursts overflow them ("dropped by
        # kernel"); -s and -B give thousands. Our segments are a few hundred bytes and
        # _check_capture rejects any truncated one. -U: write each packet to the file at once.
        # -Z root: stay root, so the file can be written into a root-only directory.
        command = [
            _program("tcpdump"),
            "-i", "lo",
            "-n",
            "--immediate-mode",
            "-s", str(SNAPLEN),
            "-B", str(BUFFER_KIB),
            "-U",
            "-Z", "root",
            "-w", str(path),
            bpf,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._reader = threading.Thread(
            target=self._read_stderr, name="tcpdump-stderr", daemon=True
        )
        self._reader.start()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        if stream is None:  # pragma: no cover - stderr=PIPE always gives a stream
            return
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            self._lines.append(line)
            if "listening on" in line:
                self._listening.set()
        self._listening.set()  # EOF: wake the waiter, which then sees that tcpdump exited

    @property
    def stderr(self) -> str:
        return "\n".join(self._lines)

    def wait_listening(self) -> None:
        if not self._listening.wait(STEP_TIMEOUT) or self.proc.poll() is not None:
            raise LabError(f"tcpdump did not start capturing:\n{self.stderr}")

    def stop(self) -> int:
        """Stop tcpdump (SIGINT flushes the file) and return the number of packets captured."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STEP_TIMEOUT)
        self._reader.join(STEP_TIMEOUT)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        counts = {
            name: re.search(rf"(\d+) packets? {name}", self.stderr)
            for name in ("captured", "received by filter", "dropped by kernel")
        }
        if any(match is None for match in counts.values()):
            raise LabError(f"tcpdump exited with {self.proc.returncode}:\n{self.stderr}")
        captured, received, dropped = (int(m.group(1)) for m in counts.values() if m is not None)
        # On lo the kernel filter sees each packet twice (sent and received) and libpcap drops
        # the outgoing copy, so "received by filter" is twice "captured": not a loss.
        if dropped != 0 or captured * 2 < received:
            raise LabError(f"tcpdump lost packets:\n{self.stderr}")
        return captured


class _Lab:
    """The servers, the capture and the attempts of one run; a context manager that cleans up."""

    def __init__(self, outdir: Path, server_ip: str) -> None:
        self.outdir = outdir
        self.server_ip = server_ip
        self.attempts: list[Attempt] = []
        self._client_ports: set[int] = set()
        self.root = Path(tempfile.mkdtemp(prefix="authaudit-lab-"))
        # Postfix's smtpd (user postfix) must reach the Dovecot socket, and Dovecot's auth
        # process (user dovecot) must read the passwd-file: the directory must be traversable.
        self.root.chmod(0o755)
        self.dovecot_root = self.root / "dovecot"
        self.postfix_root = self.root / "postfix"
        self.postfix_etc = self.postfix_root / "etc"
        self._dovecot: subprocess.Popen[bytes] | None = None
        self._postfix_started = False
        self._capture: _Capture | None = None

    def __enter__(self) -> _Lab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    # -- servers --------------------------------------------------------------------------

    def start_servers(self) -> None:
        self._start_dovecot()
        self._start_postfix()

    def _start_dovecot(self) -> None:
        self.dovecot_root.mkdir()
        (self.dovecot_root / "state").mkdir()
        passwd = self.dovecot_root / "users"
        passwd.write_text(
            "".join(f"{a.username}:{{PLAIN}}{a.password}::::::\n" for a in _PASSDB),
            encoding="utf-8",
        )
        internal = pwd.getpwnam(_user_or("dovecot", "nobody"))
        os.chown(passwd, 0, internal.pw_gid)
        passwd.chmod(0o640)
        conf = self.dovecot_root / "dovecot.conf"
        conf.write_text(_dovecot_conf(self.dovecot_root, passwd), encoding="utf-8")
        self._dovecot = subprocess.Popen(
            [_program("dovecot"), "-F", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        dovecot = self._dovecot
        listener = self.sasl_socket

        def ready() -> bool:
            if dovecot.poll() is not None:
                raise LabError(
                    f"dovecot exited with {dovecot.returncode}:\n"
                    + _tail(self.dovecot_root / "dovecot.log")
                )
            return _unix_socket_accepts(listener)

        _poll(ready, "Dovecot's auth socket")
        log.info("lab: dovecot ready (%s)", listener)

    @property
    def sasl_socket(self) -> Path:
        return self.dovecot_root / "run" / "auth-postfix"

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {key: value for key, value in os.environ.items() if key != "MAIL_CONFIG"}
        return subprocess.run(
            [_program("postfix"), "-c", str(self.postfix_etc), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=STEP_TIMEOUT * 3,
            check=False,
        )

    def _start_postfix(self) -> None:
        self.postfix_etc.mkdir(parents=True)
        # postfix(1) chdirs into the queue directory first; post-install creates the rest
        # (its subdirectories and data_directory, owned by the postfix user).
        (self.postfix_root / "spool").mkdir()
        (self.postfix_etc / "main.cf").write_text(
            _postfix_main_cf(self.postfix_root, self.server_ip, self.sasl_socket), encoding="utf-8"
        )
        (self.postfix_etc / "master.cf").write_text(
            _postfix_master_cf(self.server_ip), encoding="utf-8"
        )
        # "start" runs the same checks as "postfix check" (and creates the queue and data
        # directories), then waits until master has bound its listeners ("master -w").
        # Postfix writes diagnostics to stderr only when it is a terminal; they also go to
        # maillog_file, which is inside our directory.
        self._postfix_started = True
        started = self._postfix("start")
        if started.returncode != 0 or self._postfix_master_pid() is None:
            raise LabError(
                f"postfix start failed with {started.returncode}:\n"
                + (started.stdout + started.stderr).decode("utf-8", "replace")
                + _tail(self.postfix_root / "postfix.log")
            )
        log.info("lab: postfix ready on %s:%d,%d", self.server_ip, SMTP_PORT, SUBMISSION_PORT)

    def _postfix_master_pid(self) -> int | None:
        pid_file = self.postfix_root / "spool" / "pid" / "master.pid"
        try:
            return int(pid_file.read_text(encoding="ascii").split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _stop_postfix(self) -> None:
        if not self._postfix_started:
            return
        self._postfix_started = False
        pid = self._postfix_master_pid()
        if pid is None or not _pid_alive(pid):
            return
        self._postfix("stop")
        try:
            _poll(lambda: not _pid_alive(pid), "Postfix's master to exit")
        except LabError:
            # master leads its own process group (it ran setsid); kill it and its children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            raise

    def _stop_dovecot(self) -> None:
        dovecot = self._dovecot
        if dovecot is None:
            return
        self._dovecot = None
        if dovecot.poll() is None:
            dovecot.terminate()
        try:
            dovecot.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(dovecot.pid, signal.SIGKILL)
            dovecot.wait(STEP_TIMEOUT)
            raise LabError("dovecot did not stop on SIGTERM; killed") from None

    # -- capture --------------------------------------------------------------------------

    def start_capture(self) -> None:
        bpf = f"tcp and host {self.server_ip} and (port {SMTP_PORT} or port {SUBMISSION_PORT})"
        self._capture = _Capture(self.outdir / CAPTURE_NAME, bpf)
        self._capture.wait_listening()
        log.info("lab: tcpdump capturing %s", bpf)

    def stop_capture(self) -> int:
        capture = self._capture
        if capture is None:
            raise LabError("no capture running")
        self._capture = None
        return capture.stop()

    # -- cleanup --------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Stop everything this run started and remove the temporary directory; never raises
        before every step was tried (the first error is re-raised at the end)."""
        errors: list[BaseException] = []
        for step in (self._stop_capture_quietly, self._stop_postfix, self._stop_dovecot):
            try:
                step()
            except Exception as exc:
                errors.append(exc)
        for name, dest in _LOG_NAMES.items():
            with contextlib.suppress(OSError):
                shutil.copyfile(self.root / name, self.outdir / dest)
        shutil.rmtree(self.root, ignore_errors=True)
        if errors:
            raise errors[0]

    def _stop_capture_quietly(self) -> None:
        if self._capture is not None:
            capture, self._capture = self._capture, None
            with contextlib.suppress(LabError):
                capture.stop()

    # -- the script -----------------------------------------------------------------------

    def run_script(self) -> None:
        """Every scripted attempt, in order; each connection is closed before the next opens."""
        ports = (SMTP_PORT, SUBMISSION_PORT)
        mechanisms = ("LOGIN", "PLAIN", "CRAM-MD5")
        # swaks: one attempt per connection.
        for port in ports:
            for mechanism in mechanisms:
                self.swaks(port, mechanism, ALICE.username, ALICE.password, Outcome.SUCCESS)
                self.swaks(port, mechanism, ALICE.username, ALICE_WRONG_PASSWORD, Outcome.FAILURE)
        self.swaks(SMTP_PORT, "PLAIN", MALLORY.username, MALLORY.password, Outcome.FAILURE)
        self.swaks(SUBMISSION_PORT, "LOGIN", BOB.username, BOB.password, Outcome.SUCCESS)
        self.swaks(SMTP_PORT, "CRAM-MD5", BOB.username, BOB.password, Outcome.SUCCESS)
        # smtplib: wrong then right password in one connection (smtplib's own mechanism code:
        # LOGIN and PLAIN with an initial response, CRAM-MD5 without).
        for port in ports:
            for mechanism in mechanisms:
                with self.smtplib_session(port) as session:
                    session.login(mechanism, ALICE.username, ALICE_WRONG_PASSWORD, Outcome.FAILURE)
                    session.login(mechanism, ALICE.username, ALICE.password, Outcome.SUCCESS)
                    if port == SMTP_PORT and mechanism == "LOGIN":
                        # Already authenticated: the AUTH command itself is refused with 503.
                        session.raw("PLAIN", "", "", [("AUTH PLAIN", 503)], Outcome.REJECTED)
        with self.smtplib_session(SMTP_PORT) as session:
            # LOGIN without initial response, cancelled with "*" after the username; then a
            # successful LOGIN in the same connection.
            session.raw(
                "LOGIN",
                ALICE.username,
                "",
                [("AUTH LOGIN", 334), (_b64(ALICE.username), 334), ("*", 501)],
                Outcome.CANCELLED,
            )
            session.login("LOGIN", ALICE.username, ALICE.password, Outcome.SUCCESS)
        with self.smtplib_session(SUBMISSION_PORT) as session:
            # PLAIN without initial response ("334 " then the credentials), non-ASCII password
            # (smtplib's own auth_plain only encodes ASCII).
            session.raw(
                "PLAIN",
                BOB.username,
                BOB.password,
                [("AUTH PLAIN", 334), (_b64(f"\0{BOB.username}\0{BOB.password}"), 235)],
                Outcome.SUCCESS,
            )

    def record(
        self,
        *,
        tool: str,
        client: tuple[str, int],
        server_port: int,
        mechanism: str,
        username: str,
        password: str,
        outcome: Outcome,
        reply: tuple[int, str],
        context: str = "",
    ) -> None:
        code, text = reply
        if code != _EXPECTED_CODE[outcome]:
            raise LabError(
                f"{tool} {mechanism} {username!r} on port {server_port}: expected"
                f" {_EXPECTED_CODE[outcome]} ({outcome}), the server answered {code} {text}\n"
                f"{context}"
            )
        self.attempts.append(
            Attempt(
                client_ip=client[0],
                client_port=client[1],
                server_ip=self.server_ip,
                server_port=server_port,
                mechanism=mechanism,
                username=username,
                password=password,
                outcome=outcome,
                reply_code=code,
                reply_text=text,
                tool=tool,
            )
        )

    def swaks(
        self, port: int, mechanism: str, username: str, password: str, outcome: Outcome
    ) -> None:
        client_port = _free_port(CLIENT_IP, self._client_ports)
        command = [
            _program("swaks"),
            "--server", self.server_ip,
            "--port", str(port),
            "--local-interface", CLIENT_IP,
            "--local-port", str(client_port),
            "--helo", HELO_NAME,
            "--timeout", str(int(STEP_TIMEOUT)),
            "--auth", mechanism,
            "--auth-user", username,
            "--auth-password", password,
            "--quit-after", "AUTH",
        ]  # fmt: skip
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=STEP_TIMEOUT * 2,
            check=False,
        )
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        reply = _swaks_auth_reply(output)
        if reply is None:
            raise LabError(f"swaks exited with {done.returncode} without an AUTH reply:\n{output}")
        self.record(
            tool="swaks",
            client=(CLIENT_IP, client_port),
            server_port=port,
            mechanism=mechanism,
            username=username,
            password=password,
            outcome=outcome,
            reply=reply,
            context=output,
        )

    @contextlib.contextmanager
    def smtplib_session(self, port: int) -> Iterator[_SmtplibSession]:
        smtp = smtplib.SMTP(
            local_hostname=HELO_NAME,
            timeout=STEP_TIMEOUT,
            source_address=(CLIENT_IP, _free_port(CLIENT_IP, self._client_ports)),
        )
        try:
            smtp.connect(self.server_ip, port)
            if smtp.sock is None:  # pragma: no cover - connect() sets it or raises
                raise LabError("smtplib did not connect")
            client_ip, client_port = smtp.sock.getsockname()[:2]
            code, _ = smtp.ehlo()
            if code != 250 or not smtp.has_extn("auth"):
                raise LabError(
                    f"port {port}: EHLO answered {code}, AUTH advertised: "
                    f"{smtp.esmtp_features.get('auth')!r}"
                )
            yield _SmtplibSession(self, smtp, (str(client_ip), int(client_port)), port)
            smtp.quit()
        finally:
            smtp.close()


@dataclass(slots=True)
class _SmtplibSession:
    lab: _Lab
    smtp: smtplib.SMTP
    client: tuple[str, int]
    port: int

    def login(self, mechanism: str, username: str, password: str, outcome: Outcome) -> None:
        """One attempt through :meth:`smtplib.SMTP.auth` and smtplib's own mechanism objects."""
        smtp = self.smtp
        smtp.user, smtp.password = username, password
        try:
            if mechanism == "LOGIN":
                code, message = smtp.auth(mechanism, smtp.auth_login)
            elif mechanism == "PLAIN":
                code, message = smtp.auth(mechanism, smtp.auth_plain)
            elif mechanism == "CRAM-MD5":
                code, message = smtp.auth(mechanism, smtp.auth_cram_md5)
            else:
                raise LabError(f"smtplib has no {mechanism} support")
        except smtplib.SMTPAuthenticationError as exc:
            error = exc.smtp_error
            code, message = exc.smtp_code, error.encode() if isinstance(error, str) else error
        self._record(mechanism, username, password, outcome, code, message)

    def raw(
        self,
        mechanism: str,
        username: str,
        password: str,
        steps: Sequence[tuple[str, int]],
        outcome: Outcome,
    ) -> None:
        """One attempt sent line by line; every intermediate reply must have the given code."""
        code, message = 0, b""
        for line, expected in steps:
            code, message = self.smtp.docmd(line)
            if code != expected:
                raise LabError(
                    f"smtplib {mechanism} on port {self.port}: sent a step of {steps[0][0]!r},"
                    f" expected {expected}, got {code} {message!r}"
                )
        self._record(mechanism, username, password, outcome, code, message)

    def _record(
        self,
        mechanism: str,
        username: str,
        password: str,
        outcome: Outcome,
        code: int,
        message: bytes,
    ) -> None:
        # smtplib joins the lines of a multi-line reply with "\n"; the last line is the answer.
        lines = message.decode("utf-8", "replace").splitlines() or [""]
        self.lab.record(
            tool="smtplib",
            client=self.client,
            server_port=self.port,
            mechanism=mechanism,
            username=username,
            password=password,
            outcome=outcome,
            reply=(code, lines[-1]),
        )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


_SWAKS_SERVER_LINE = re.compile(r"^<(?:-|\*\*) +(\d{3})[ -](.*)$")
_SWAKS_CLIENT_LINE = re.compile(r"^(?: -|\*\*)> +(.*)$")


def _swaks_auth_reply(output: str) -> tuple[int, str] | None:
    """The server's final reply to swaks's AUTH exchange: the last server line after the client's
    ``AUTH`` line and before its next command (``QUIT``)."""
    in_auth = False
    reply: tuple[int, str] | None = None
    for line in output.splitlines():
        client = _SWAKS_CLIENT_LINE.match(line)
        if client is not None:
            command = client.group(1)
            if command.upper().startswith("AUTH "):
                in_auth = True
            elif in_auth and command.upper() == "QUIT":
                break
            continue
        server = _SWAKS_SERVER_LINE.match(line)
        if in_auth and server is not None:
            reply = (int(server.group(1)), server.group(2))
    if reply is not None and reply[0] == 334:
        return None  # the exchange never finished
    return reply


def _check_capture(path: Path, server_ip: str, attempts: Sequence[Attempt]) -> None:
    """Check that the capture holds every scripted connection from its SYN to both FINs, and no
    truncated packet.

    A safety net for the capture machinery (a stopped tcpdump can lose buffered packets): this
    only reads Ethernet/IPv4/TCP headers, never SMTP, and is no substitute for the decoder.
    """
    from scapy.utils import RawPcapReader  # the project's own pcap reading dependency

    want = {(a.client_ip, a.client_port, a.server_port) for a in attempts}
    seen: dict[tuple[str, int, int], set[str]] = {key: set() for key in want}
    reader = RawPcapReader(str(path))
    try:
        for data, meta in reader:
            if meta.caplen != meta.wirelen:
                raise LabError(f"{path}: a packet was truncated to {meta.caplen} bytes")
            frame = bytes(data)
            if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
                continue  # not Ethernet + IPv4 + TCP
            ihl = (frame[14] & 0x0F) * 4
            src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
            tcp = frame[14 + ihl :]
            if len(tcp) < 14:
                continue
            sport, dport = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big")
            flags = tcp[13]
            if dst == server_ip and (src, sport, dport) in seen:
                key, side = (src, sport, dport), "client"
            elif src == server_ip and (dst, dport, sport) in seen:
                key, side = (dst, dport, sport), "server"
            else:
                continue
            if flags & 0x02 and side == "client":
                seen[key].add("syn")
            if flags & 0x01:
                seen[key].add(f"{side}-fin")
    finally:
        reader.close()
    incomplete = {key: marks for key, marks in seen.items() if len(marks) != 3}
    if incomplete:
        raise LabError(f"{path}: connections not captured from SYN to FIN: {incomplete}")


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.lab.lab OUTDIR``: run the lab, write its files into OUTDIR."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.lab.lab",
        description="Capture real SMTP AUTH traffic between swaks/smtplib and a private "
        "Postfix + Dovecot on loopback, with its ground truth.",
    )
    parser.add_argument("outdir", type=Path, help="directory for lab.pcap, lab.truth.tsv ...")
    parser.add_argument(
        "--server-ip", help="loopback address for Postfix (default: 127.0.0.2 or a free one)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        result = run_lab(args.outdir, server_ip=args.server_ip)
    except LabError as exc:
        sys.stderr.write(f"lab failed: {exc}\n")
        return 2
    sys.stdout.write(
        f"capture:  {result.capture} ({result.packets_captured} packets)\n"
        f"truth:    {result.truth} ({len(result.attempts)} attempts)\n"
        f"wordlist: {result.wordlist}\n"
        f"took {result.duration:.1f} s\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
