"""The grammar of Postfix log messages: queue ids, the fields of the lines that matter, and which
texts are known noise.

Everything here works on the message part after the syslog header and is stateless. Field
layouts follow Postfix's format strings (``smtpd.c`` ``"%s: client=%s..."``, ``log_adhoc.c``
``"%s: to=<%s>, ... status=%s (%s)"``, ``smtpd_check.c`` ``log_whatsup``,
``smtpd_sasl_glue.c``); see the project's mail-log reference, section 2.1. Parsing uses literal
``find``/``startswith`` and a few anchored regexes without nested quantifiers, so a hostile line
costs linear time.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "ACTIONS",
    "CLIENT_NOISE",
    "GENERIC_NOISE",
    "HEX_ID",
    "LEAF_NOISE",
    "LONG_ID",
    "MESSAGE_STAGES",
    "NOISE_LEAVES",
    "QUEUE_NOISE",
    "QUEUE_NOISE_LINE",
    "SMTPD_NOISE",
    "SMTPD_QUIET",
    "Action",
    "Client",
    "DeliveryLine",
    "SaslFailure",
    "parse_action",
    "parse_client",
    "parse_delivery",
    "parse_pickup",
    "parse_qmgr_from",
    "parse_sasl_failure",
    "queued_as",
    "rejected_user",
    "relay_ip",
    "service_of",
    "split_queue_id",
]

HEX_ID = "0123456789ABCDEF"
LONG_ID = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
"""Short queue ids are upper-case hex (:data:`HEX_ID`); long ids (``enable_long_queue_ids``) use
digits and consonants, so no English word (``warning``, ``statistics``, ``NOQUEUE``) can pass for
one."""


_new = tuple.__new__
"""Builds a named tuple from a tuple, without its generated ``__new__`` (a hot path)."""


def split_queue_id(message: str) -> tuple[str, str] | None:
    """``(queue_id, rest)`` for ``"QUEUEID: rest"``, None when the message has no queue id."""
    end = message.find(": ", 6, 34)
    if end < 0:
        return None
    qid = message[:end]
    if qid.strip(HEX_ID) and (end < 10 or qid.strip(LONG_ID)):
        return None
    return qid, message[end + 2 :]


def service_of(program: str) -> str:
    """The service a Postfix program name stands for: ``postfix/submission/smtpd`` gives
    ``submission``, ``postfix/smtps/smtpd`` and ``.../submissions/smtpd`` give ``smtps``; any
    other (``postfix/smtpd``, ``postfix-in/smtpd``, ``postfix/dkimmilter/smtpd``) is ``smtp``."""
    parts = program.split("/")
    if len(parts) < 3:
        return "smtp"
    middle = parts[1].lower()
    if middle in ("submission", "587"):
        return "submission"
    if middle in ("smtps", "submissions", "465"):
        return "smtps"
    return "smtp"


class Client(NamedTuple):
    """An smtpd ``client=NAME[ADDR][:port][, sasl_method=M][, sasl_username=U][, sasl_sender=S]
    [, orig_queue_id=Q][, orig_client=NAME[ADDR]]`` line (the message entered the queue)."""

    address: str
    """The text between the brackets (``127.0.0.1``, ``IPv6:...``, ``unknown``)."""
    method: str | None
    username: str | None
    orig_queue_id: str | None
    """XFORWARD from a content filter: the queue id the message had before the filter."""
    orig_address: str | None
    """XFORWARD: the address of the client that first sent the message."""


def _bracketed(text: str) -> str | None:
    start = text.find("[")
    end = text.rfind("]")
    if start < 0 or end < start:
        return None
    return text[start + 1 : end]


def parse_client(body: str) -> Client | None:
    """Fields of a ``client=...`` body (the text after ``QUEUEID: ``), None if it is malformed."""
    open_at = body.find("[", 7)
    close_at = body.find("]", open_at + 1)
    if open_at < 0 or close_at < 0:
        return None
    address = body[open_at + 1 : close_at]
    method = username = orig_qid = orig_address = None
    rest = body[close_at + 1 :]
    if rest.startswith(", sasl_method="):  # the usual AUTH line, read without the loop below
        cut = rest.find(", ", 14)
        if cut < 0:
            return _new(Client, (address, rest[14:], None, None, None))
        if rest.startswith(", sasl_username=", cut) and rest.find(", ", cut + 16) < 0:
            return _new(Client, (address, rest[14:cut], rest[cut + 16 :] or None, None, None))
    if ", " in rest:
        for part in rest.split(", ")[1:]:
            key, _, value = part.partition("=")
            if key == "sasl_username":
                username = value
            elif key == "sasl_method":
                method = value
            elif key == "orig_queue_id":
                orig_qid = value
            elif key == "orig_client":
                orig_address = _bracketed(value)
    return _new(Client, (address, method, username or None, orig_qid, orig_address))


_PICKUP = re.compile(r"uid=(\d{1,10}) from=<([^>]*)>")


def parse_pickup(body: str) -> tuple[int, str] | None:
    """``(uid, sender)`` of a pickup ``uid=N from=<sender>`` body (local submission)."""
    match = _PICKUP.match(body)
    if match is None:
        return None
    return int(match[1]), match[2]


def parse_qmgr_from(body: str) -> tuple[str, bool] | None:
    """``(sender, expired)`` of a qmgr ``from=<S>, size=N, nrcpt=N (queue active)`` or
    ``from=<S>, status=expired, returned to sender`` body; None for other ``from=`` texts."""
    end = body.rfind(">, size=")
    if end >= 5:
        return body[6:end], False
    end = body.rfind(">, status=expired")
    if end >= 5:
        return body[6:end], True
    return None


class DeliveryLine(NamedTuple):
    """A delivery agent's ``to=<R>, [orig_to=<O>, ]relay=X, ..., status=S (response)`` line."""

    recipient: str
    relay: str
    status: str
    """Lower case: ``sent``, ``deferred``, ``bounced``, ``expired``, ``softbounce``, ..."""
    response: str
    """The text after the status (``(250 2.0.0 Ok: queued as X)``), empty when there is none."""


def parse_delivery(body: str) -> DeliveryLine | None:
    """Fields of a ``to=...`` body, None if it lacks the relay or status field."""
    if body.startswith("to=<"):
        end = body.find(">,", 4)
        recipient = body[4:end]
    else:  # very old local(8) lines: "to=user@host, orig_to=..., relay=local"
        end = body.find(",", 3)
        recipient = body[3:end]
    if end < 0:
        return None
    at = body.find(" relay=", end)
    if at < 0:
        return None
    relay_end = body.find(",", at)
    if relay_end < 0:
        return None
    relay = body[at + 7 : relay_end]
    at = body.find(" status=", relay_end)
    if at < 0:
        return None
    status_end = body.find(" ", at + 8)
    if status_end < 0:
        status_end = len(body)
    status = body[at + 8 : status_end].rstrip(",").lower()
    if not status:
        return None
    return _new(DeliveryLine, (recipient, relay, status, body[status_end + 1 :]))


_QUEUED_AS = re.compile(r"queued as ([0-9A-Za-z]{6,40})\)?\s*$")


def queued_as(response: str) -> str | None:
    """The next hop's queue id in a ``250 ... queued as NEWQID`` response, if any."""
    if "queued as " not in response:
        return None
    match = _QUEUED_AS.search(response)
    return match[1] if match is not None else None


def relay_ip(relay: str) -> str | None:
    """The address in ``host[addr]:port`` (None for ``none``, ``local``, a unix socket path)."""
    return _bracketed(relay)


class SaslFailure(NamedTuple):
    """smtpd's ``warning: NAME[ADDR]: SASL M authentication failed: reason[, sasl_username=U]``."""

    address: str
    method: str
    reason: str
    username: str | None
    """Only Postfix >= 3.9 logs it; ``(unavailable)`` gives None."""


_SASL_FAILED = re.compile(
    r"warning: [^\[\s]*\[([^\]\s]*)\](?::[0-9a-z]{1,10})?: SASL ([\w-]{1,40}) authentication "
    r"failed:? ?(.*)",
    re.DOTALL,
)
_SASL_USER = ", sasl_username="


def parse_sasl_failure(message: str) -> SaslFailure | None:
    """The fields of a SASL failure warning, None for any other text."""
    match = _SASL_FAILED.match(message)
    if match is None:
        return None
    address, method, reason = match.groups()
    username: str | None = None
    cut = reason.rfind(_SASL_USER)
    if cut >= 0:
        username = reason[cut + len(_SASL_USER) :]
        reason = reason[:cut]
        if username in ("", "(unavailable)"):
            username = None
    return SaslFailure(address, method.upper(), reason.strip(), username)


ACTIONS = frozenset({
    "reject", "reject_warning", "milter-reject", "proxy-reject", "proxy-accept", "warn",
    "discard", "milter-discard", "hold", "milter-hold", "filter", "redirect",
    "milter-header-redirect", "replace", "prepend", "warning", "info", "bcc", "milter-replace",
})
"""``smtpd_check.c``/``cleanup`` actions that are logged as ``ACTION: STAGE from ...; from=<S>
to=<R> proto=... helo=<H>``."""

MESSAGE_STAGES = frozenset({
    "DATA", "BDAT", "END-OF-MESSAGE", "header", "body", "content", "mime-header", "nested-header",
})
"""Stages at which a reject or discard ends the whole message (not one recipient)."""


class Action(NamedTuple):
    """One ``ACTION: STAGE ...`` line from smtpd or cleanup."""

    action: str
    stage: str
    recipient: str | None
    """The ``to=<R>`` of the line (the first recipient, for cleanup)."""


def parse_action(text: str) -> Action | None:
    """The action, stage and recipient of ``reject: RCPT from ...; from=<S> to=<R> ...``."""
    action, sep, rest = text.lstrip(" ").partition(": ")
    if not sep or action not in ACTIONS:
        return None
    rest = rest.lstrip(" ")
    stage = rest.split(" ", 1)[0].rstrip(":")
    recipient = None
    tail = rest.rfind("; from=<")
    if tail < 0:
        tail = rest.rfind("; to=<")
    if tail >= 0:
        start = rest.find("to=<", tail + 2)
        end = rest.find(">", start + 4)
        if start >= 0 and end >= 0 and rest[start - 1] in " ,;":
            recipient = rest[start + 4 : end]
    return Action(action, stage, recipient)


_NOT_OWNED = "not owned by user "
_REJECT_ACTIONS = ("reject:", "reject_warning:", "milter-reject:", "proxy-reject:")


def rejected_user(text: str) -> str | None:
    """The authenticated user a reject line names: ``Sender address rejected: not owned by user
    U`` (``reject_sender_login_mismatch``) or Postfix 3.10's ``sasl_username=U``; None else."""
    if not text.startswith(_REJECT_ACTIONS):
        return None
    at = text.find(_NOT_OWNED)
    if at >= 0:
        user = text[at + len(_NOT_OWNED) :].split(";", 1)[0].strip()
        if user:
            return user
    at = text.find(" sasl_username=")
    if at >= 0:
        user = text[at + 15 :].split(" ", 1)[0].rstrip(",")
        if user:
            return user
    return None


# --- which texts are known and carry nothing -----------------------------------------------------

NOISE_LEAVES = frozenset({
    "anvil", "dnsblog", "postscreen", "tlsproxy", "verify", "scache", "tlsmgr", "master",
    "postfix", "postfix-script", "postlog", "postmap", "postalias", "postconf", "postmulti",
    "postqueue", "postkick", "postcat", "postlock", "proxymap", "trivial-rewrite", "flush",
    "showq", "spawn", "sendmail", "postdrop", "policy-spf",
})
"""Programs none of whose lines say anything about a login or a message's origin: connection
statistics, DNSBL and postscreen verdicts (``PASS OLD``, ``NOQUEUE: reject: RCPT`` before smtpd),
address verification cache, service start/stop, admin commands, ``sendmail``/``postdrop``
``fatal:`` lines, and the spawned SPF policy service. Every line of theirs is recognised."""

GENERIC_NOISE = (
    "warning: ", "fatal: ", "panic: ", "error: ", "info: ", "statistics: ", "NOQUEUE: ",
    "table ", "looking for plugins ", "unable to dlopen ", "_sasl_plugin_load ",
    "auxpropfunc error ", "sql_select option missing", "sql auxprop plugin ",
)
"""Prefixes any Postfix program may log: msg_warn/msg_fatal/msg_panic, ``table ... has changed
-- restarting``, and the Cyrus SASL library's own complaints (``looking for plugins in ...``).
``NOQUEUE: ...`` lines are looked at for :func:`rejected_user` before they are dismissed."""

SMTPD_QUIET = (
    "connect from ", "disconnect from ", "lost connection after ", "Anonymous TLS ",
    "timeout after ", "too many errors after ", "improper command pipelining after ",
    "Untrusted TLS ", "Trusted TLS ", "Verified TLS ", "TLS connection established",
    "SSL_accept error ", "discarding EHLO keywords", "bare <LF> received", "proxy-accept: ",
    "proxy-reject: ", "cannot load ", "setting up TLS", "abort ",
)
"""smtpd's session chatter, the bulk of its lines: checked first."""

SMTPD_NOISE = (
    "reject: ", "reject_warning: ", "milter-reject: ", "warn: ", "hold: ", "discard: ",
    "filter: ", "redirect: ", "bcc: ",
)
"""Postfix 2.0's reject/action lines, which carry no ``NOQUEUE``."""

CLIENT_NOISE = (
    "connect to ", "Anonymous TLS ", "Untrusted TLS ", "Trusted TLS ", "Verified TLS ",
    "TLS connection established", "SSL_connect error ", "certificate verification failed ",
    "server certificate verification failed", "Host offered STARTTLS", "Unverified: ",
    "discarding EHLO keywords", "setting up TLS", "host ", "lost connection with ",
    "conversation with ", "enabling PIX", "Cannot start TLS", "SASL authentication failed; ",
    "SASL [CACHED] authentication failed", "mailer loop",
)
"""What the smtp/lmtp client logs about a connection rather than a recipient."""

LEAF_NOISE: dict[str, tuple[str, ...]] = {
    "smtp": CLIENT_NOISE,
    "lmtp": CLIENT_NOISE,
    "relay": CLIENT_NOISE,
    "postsuper": ("Deleted: ", "Requeued: ", "Placed on hold: ", "Released from hold: ",
                  "Expired: ", "Forcibly expired: "),
}
"""Extra non-queue-id prefixes per program (``relay`` is the smtp client's relay transport)."""

QUEUE_NOISE = (
    "message-id=", "resent-message-id=", "sender non-delivery notification: ",
    "sender delivery status notification: ", "sender delay notification: ",
    "postmaster non-delivery notification: ", "postmaster delay notification: ",
    "postmaster delivery status notification: ", "host ", "lost connection with ",
    "conversation with ", "enabling PIX", "SASL authentication failed; ",
    "SASL [CACHED] authentication failed", "Cannot start TLS", "connect to ", "requeued",
    "placed on hold", "released from hold", "skipped, still being delivered", "expired",
    "forcibly expired", "warning: ", "status=", "delivery temporarily suspended",
    "breaking line", "refused to talk", "SMTPUTF8",
)
"""Bodies after ``QUEUEID: `` that are known and carry nothing (message ids, bounce notices,
smtp client errors that the delivery line repeats, postsuper actions)."""

QUEUE_NOISE_LINE = re.compile(
    r"(?:[0-9A-F]{6,32}|[0-9BCDFGHJ-NP-TV-Zbcdfghj-np-tv-z]{10,32}): (?:"
    + "|".join(re.escape(body) for body in QUEUE_NOISE) + ")"
)
"""A queue-id line, as :func:`split_queue_id` reads one (a hex id of 6 or more characters, or a
long id of 10 or more), whose body is known noise: what the scanner may count without the
parser (cleanup logs a ``message-id=`` line per message)."""
