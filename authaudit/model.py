"""Plain typed records shared by every layer: what the sources produce and what the reports hold.

Every record is a frozen, slotted dataclass. Records carry facts only; rendering, redaction and
severity policy live elsewhere (``redact.py``, ``formats/``, ``checks/``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from authaudit.redact import Secret

__all__ = [
    "SCHEMA_VERSION",
    "Account",
    "AccountActivity",
    "AuthAttempt",
    "Confidence",
    "Delivery",
    "Finding",
    "FlowKey",
    "Incident",
    "InputFile",
    "LoginEvent",
    "LoginKind",
    "Outcome",
    "RelayVia",
    "RelayedMessage",
    "Report",
    "Severity",
    "Skipped",
    "TlsKind",
    "TlsSession",
    "endpoint",
]

SCHEMA_VERSION = 1
"""Version of the JSON/JSONL output schema; bumped on any incompatible change."""


class Outcome(enum.StrEnum):
    """How the server answered an AUTH exchange (RFC 4954 section 6 reply codes)."""

    SUCCESS = "success"
    """235: the server accepted the credentials."""
    FAILURE = "failure"
    """535/454/534/538/501/504/530 and other 4xx/5xx after credentials were offered."""
    REJECTED = "rejected"
    """503 and similar: the AUTH command itself was refused before any credential."""
    CANCELLED = "cancelled"
    """The client sent ``*`` to abort the exchange."""
    UNKNOWN = "unknown"
    """No usable server reply was captured."""


class Severity(enum.StrEnum):
    """How urgent a finding is; ordered from least to most severe."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


class Confidence(enum.StrEnum):
    """How sure a check is that its finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TlsKind(enum.StrEnum):
    """How a connection came to be encrypted."""

    STARTTLS = "starttls"
    """The client sent STARTTLS and the server answered 220."""
    IMPLICIT = "implicit"
    """The connection opened with a TLS ClientHello (SMTPS, port 465 or any other)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowKey:
    """One TCP connection, oriented from the SMTP client to the SMTP server."""

    client_ip: str
    client_port: int
    server_ip: str
    server_port: int

    @property
    def client(self) -> str:
        """``ip:port`` of the client (IPv6 in brackets)."""
        return endpoint(self.client_ip, self.client_port)

    @property
    def server(self) -> str:
        """``ip:port`` of the server (IPv6 in brackets)."""
        return endpoint(self.server_ip, self.server_port)

    def __str__(self) -> str:
        return f"{self.client} -> {self.server}"


def endpoint(ip: str, port: int) -> str:
    """``ip:port``, with an IPv6 address in brackets as in URLs."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthAttempt:
    """One SMTP AUTH exchange on the wire: who offered which credentials, how, and the answer."""

    capture: str
    """Path of the capture file the attempt was read from."""
    time: datetime
    """When the client sent the AUTH command (UTC)."""
    flow: FlowKey
    mechanism: str
    """SASL mechanism name as sent by the client, upper-cased (``LOGIN``, ``CRAM-MD5`` ...)."""
    username: str | None = None
    """Authentication identity; non-printable bytes are rendered as ``\\xHH`` escapes."""
    authzid: str | None = None
    """Authorisation identity (PLAIN, GSSAPI ...) when one was sent."""
    secret: Secret | None = None
    """Password (cleartext mechanisms) or crackable hash line (challenge-response mechanisms)."""
    cracked: Secret | None = None
    """Password recovered offline from a challenge-response secret, if any."""
    outcome: Outcome = Outcome.UNKNOWN
    reply_code: int | None = None
    reply_text: str = ""
    """Last line of the server's final reply, without the code."""
    tls: bool = False
    """True when the exchange happened after a successful STARTTLS (a decrypted capture)."""
    flags: tuple[str, ...] = ()
    """Notes on oddities: ``empty-authcid``, ``lenient-base64``, ``no-server-reply`` ..."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsSession:
    """A connection whose SMTP conversation (and any AUTH inside it) is hidden by TLS."""

    capture: str
    time: datetime
    flow: FlowKey
    kind: TlsKind
    reply_code: int | None = None
    reply_text: str = ""
    sni: str | None = None
    """Server name from the TLS ClientHello, when it was captured."""
    cleartext_after: bool = False
    """True when cleartext SMTP continued after STARTTLS (a decrypted or re-injected capture)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """One mailbox login from an account store (vpopmail, Dovecot passwd-file, SQL ...)."""

    source: str
    """The store it was read from: a path, or a DSN without its password."""
    store: str
    """Kind of store: ``vpopmail``, ``vpopmail-cdb``, ``vpopmail-sql``, ``vuserinfo``,
    ``dovecot-passwd``, ``postfixadmin``, ``sql``."""
    location: str
    """Where in the store: ``path:line``, ``table:key``."""
    address: str
    """Login as users type it: ``user@domain``, or ``user`` when the store has no domain."""
    username: str
    """Local part (vpopmail ``pw_name``, the passwd-file user field before ``@``)."""
    domain: str | None = None
    password_hash: Secret | None = None
    """The stored hash, exactly as in the store (scheme prefix kept); kind ``hash``."""
    scheme: str | None = None
    """Identified password scheme (``SHA512-CRYPT``, ``PLAIN`` ...); None if unknown."""
    cleartext: Secret | None = None
    """A password the store keeps in clear (vpasswd field 8, ``pw_clear_passwd``, ``{PLAIN}``)."""
    gecos: str = ""
    """Real name or comment field."""
    flags: tuple[str, ...] = ()
    """Store flags by name (vpopmail gid bits such as ``NO_SMTP``, ``QA_ADMIN``)."""
    home: str | None = None
    quota: str | None = None
    last_auth_ip: str | None = None
    """Address of the last successful login the store recorded (vpopmail lastauth)."""
    last_auth_at: datetime | None = None
    last_auth_service: str | None = None
    """Service of the last login when the store records it (``smtp``, ``imap``, ``pop3``)."""


class FoundBy(enum.StrEnum):
    """How an account's password became known to the audit."""

    STORED_CLEARTEXT = "stored-cleartext"
    """The store keeps it in clear (or reversibly encoded)."""
    EMPTY = "empty"
    """The empty password verifies."""
    USERNAME = "username"
    """It equals the login, its local part or the domain name, in some letter case."""
    VARIANT = "variant"
    """A simple variant of the login or the real name (reversed, digits, year, leet ...)."""
    WORDLIST = "wordlist"
    """It is in a wordlist."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountResult:
    """An account and what guessing learned about its password."""

    account: Account
    password: Secret | None = None
    """The password, when stored in clear or recovered by a candidate."""
    found_by: FoundBy | None = None
    candidates_tried: int = 0
    complete: bool = True
    """False when the guessing budget ran out before every candidate of the profile was tried."""
    problem: str | None = None
    """Why the password could not be checked (unknown scheme, malformed hash, locked ...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """Input that could not be used, and why. Counted and reported, never dropped silently."""

    source: str
    """File (or DSN) the input came from."""
    where: str
    """Location inside the source: packet number, flow, line number, row key."""
    reason: str
    count: int = 1
    """How many items were skipped for this same reason at this place."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """The result of one check on one subject: a weakness or an event worth acting on."""

    check_id: str
    """Stable check identifier such as ``AA101`` (see docs/checks.md)."""
    title: str
    severity: Severity
    confidence: Confidence
    subject: str
    """What the finding is about: an account address, a flow, an IP."""
    message: str
    evidence: tuple[tuple[str, str], ...] = ()
    """Ordered (label, value) pairs; values never hold secrets in clear."""
    remediation: str = ""
    time: datetime | None = None
    """When it was first seen (or happened)."""
    last_time: datetime | None = None
    """When it was last seen, for a finding about a span of activity (None: one moment)."""
    secret: Secret | None = None
    """The secret the finding is about, rendered through the redactor by the formats."""
    account: str | None = None
    """The login or account address the finding concerns, lower case (None when it is about an
    address, a uid or a server rather than an account); what ``correlate`` joins on."""



class LoginKind(enum.StrEnum):
    """What a log line says about one authentication."""

    SUCCESS = "success"
    """The server accepted the credentials."""
    FAILURE = "failure"
    """Wrong password (or the daemon did not say why)."""
    UNKNOWN_USER = "unknown-user"
    """The login name does not exist."""


@dataclass(slots=True, kw_only=True)
class LoginEvent:
    """One authentication (SMTP AUTH, IMAP, POP3, ...) as a mail log records it.

    Read-only by convention, not frozen: a log makes one per line and a frozen dataclass costs
    three times as much to build.

    ``line`` is the log line the event comes from with any logged password cut out (replaced by
    ``<secret>``); the password itself, when the daemon logs it (vpopmail ``pass:``, Dovecot
    ``given password``), is in ``secret``.
    """

    source: str
    """Log file path."""
    lineno: int
    time: datetime | None
    """Aware UTC time, or None when the line had no usable time."""
    daemon: str
    """Who logged it: ``postfix``, ``dovecot``, ``exim``, ``sendmail``, ``qmail``, ``vpopmail``,
    ``courier``."""
    service: str
    """``smtp``, ``submission``, ``smtps``, ``imap``, ``pop3``, ``sieve``, ... (``smtp`` when the
    log does not say more)."""
    kind: LoginKind
    user: str | None
    """The login name as given (None when the log does not name it)."""
    client_ip: str | None
    """Normalised client address (no ``::ffff:`` prefix, no port, no brackets)."""
    method: str | None = None
    """SASL mechanism or login method when logged (``LOGIN``, ``PLAIN``, ``CRAM-MD5``)."""
    attempts: int = 1
    """How many tries the line stands for (Dovecot ``auth failed, 3 attempts``)."""
    reason: str = ""
    line: str = ""
    secret: Secret | None = None


class RelayVia(enum.StrEnum):
    """How a message got the right to be sent on."""

    AUTH = "auth"
    """SMTP AUTH: ``user`` is the authenticated identity."""
    LOCAL = "local"
    """Injected on the server itself (``sendmail`` binary, Postfix pickup, qmail-inject): ``uid``
    says who."""
    NETWORK = "network"
    """Accepted from the network without AUTH (trusted IP, POP-before-SMTP, plain inbound)."""
    QUEUED = "queued"
    """Entered the queue and the log does not say how (qmail-send ``info msg``): ``uid`` says
    which user queued it (qmaild's uid for SMTP, a script owner's for local injection)."""


@dataclass(slots=True, kw_only=True)
class Delivery:
    """One recipient of a message and what became of it (read-only by convention, not frozen,
    like :class:`RelayedMessage`: a log makes one per recipient)."""

    recipient: str
    status: str
    """``sent``, ``deferred``, ``bounced``, ``expired``, ``accepted`` (queued, no delivery line
    seen) and similar, lower case."""
    time: datetime | None = None
    relay: str = ""
    """Where it went (``mx.example.net[192.0.2.1]:25``, ``local``, ``none``)."""


@dataclass(slots=True, kw_only=True)
class RelayedMessage:
    """One message as a mail log records it, with the identity that submitted it (read-only by
    convention, not frozen, like :class:`LoginEvent`).

    A message that went through a content filter (amavis) and came back under a new queue id is
    one RelayedMessage that keeps the first submission's identity.
    """

    source: str
    lineno: int
    """Line of the first log line of the message."""
    time: datetime | None
    daemon: str
    queue_id: str
    via: RelayVia
    user: str | None = None
    """Authenticated identity (AUTH), or the local user name when the log gives one."""
    uid: int | None = None
    """Local injection: the uid that ran the mail command."""
    client_ip: str | None = None
    sender: str = ""
    """Envelope sender (empty for the null sender ``<>``)."""
    deliveries: tuple[Delivery, ...] = ()
    lines: tuple[str, ...] = ()
    """A few log lines that show the message (the submission line first), for evidence."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountActivity:
    """What the mail logs say one authenticated identity did over the whole input."""

    account: str
    """The identity, lower case: a mailbox address when it could be resolved, else the login."""
    logins: int = 0
    """Successful authentications (SMTP AUTH per message for Postfix; IMAP/POP logins)."""
    failures: int = 0
    """Failed authentications (wrong password), counting the attempts a line stands for."""
    login_ips: tuple[str, ...] = ()
    """Distinct addresses that logged in or relayed as this identity, most active first."""
    failure_ips: tuple[str, ...] = ()
    relay_ips: tuple[str, ...] = ()
    """Addresses that submitted mail as this identity, most messages first."""
    networks: int = 0
    """Distinct /16 (IPv4) or /48 (IPv6) networks among ``login_ips``."""
    countries: tuple[str, ...] = ()
    """ISO codes of the countries of ``login_ips`` (only with ``--geoip``)."""
    max_ips_per_day: int = 0
    messages: int = 0
    recipients: int = 0
    foreign_recipients: int = 0
    """Recipients in domains that are not local to the server."""
    foreign_domains: int = 0
    max_recipients_per_hour: int = 0
    max_messages_per_day: int = 0
    max_foreign_domains_per_day: int = 0
    deferred: int = 0
    bounced: int = 0
    senders: tuple[str, ...] = ()
    """Envelope senders used, most frequent first."""
    services: tuple[str, ...] = ()
    max_failures_in_window: int = 0
    """Most failures inside one brute-force window (10 minutes by default)."""
    max_failures_per_day: int = 0
    """Most failures in one calendar day (UTC)."""
    stranger_failures: int = 0
    """Failures from addresses that never logged in as this identity (not its owner mistyping):
    what a slow brute force adds up to."""
    failures_before_success: int = 0
    """Most failures in the 24 hours before one successful login."""
    guessed_from: str | None = None
    """The address of that successful login (where the guessed password was first used)."""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    evidence: tuple[str, ...] = ()
    """A few log lines that show the activity (``file:line: text``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """A ranked conclusion for a person to act on: findings from all sources joined by subject."""

    rank: int
    """1 for the most urgent incident."""
    severity: Severity
    kind: str
    """``compromised-account``, ``weak-credential-in-use``, ``brute-force``, ``password-spray``,
    ``local-injection``, ``weak-credential``, ``cleartext-auth``."""
    subject: str
    """The account address, the attacking IP, or ``uid N``."""
    domain: str | None
    """Customer domain the incident belongs to (for ``--by-domain``)."""
    summary: str
    """One sentence that says what happened."""
    check_ids: tuple[str, ...]
    sources: tuple[str, ...]
    """Which inputs back it: ``logs``, ``capture``, ``store``."""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ips: tuple[str, ...] = ()
    ip_count: int = 0
    messages: int = 0
    recipients: int = 0
    foreign_domains: int = 0
    last_auth_ip: str | None = None
    evidence: tuple[str, ...] = ()
    remediation: tuple[str, ...] = ()
    secret: Secret | None = None
    """The password, when a source revealed it (rendered through the redactor)."""

@dataclass(frozen=True, slots=True, kw_only=True)
class InputFile:
    """One input the report was built from, identified by content."""

    path: str
    kind: str
    """``capture``, ``wordlist``, ``store``, ``log``."""
    sha256: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything one run found, ready for the formats."""

    tool_version: str
    generated_at: datetime
    command: str
    inputs: tuple[InputFile, ...] = ()
    attempts: tuple[AuthAttempt, ...] = ()
    tls_sessions: tuple[TlsSession, ...] = ()
    accounts: tuple[AccountResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    activity: tuple[AccountActivity, ...] = ()
    """Per identity, what the mail logs say it did (``authaudit logs`` / ``report``)."""
    incidents: tuple[Incident, ...] = ()
    """Ranked, most urgent first (``authaudit report``)."""
    stats: tuple[tuple[str, int], ...] = field(default=())
    """Counters such as packets read, flows seen, SMTP sessions; in a stable order."""
    schema_version: int = SCHEMA_VERSION

    def worst_severity(self) -> Severity | None:
        """The highest severity among the findings, or None when there are none."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)
