"""One name per mailbox across sources: ``test``, ``TEST@Victim.org`` and ``test%victim.org`` all
become ``test@victim.org`` when the account stores know that mailbox.

Logs write the login as the client typed it. vpopmail accepts a bare name for the default domain
(the target case logs ``from <...:test:>``), ``%`` instead of ``@``, and any letter case. A bare
name is resolved when exactly one known mailbox has that local part; otherwise it stays as it is
(lower case), so two customers' ``info`` accounts are never merged by guess.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["IdentityResolver", "domain_of"]


def domain_of(identity: str) -> str | None:
    """The domain part of an address, None for a bare login."""
    at = identity.rfind("@")
    return identity[at + 1 :] if at >= 0 else None


class IdentityResolver:
    """Maps logins as logged to the canonical identity, and knows which domains are local."""

    def __init__(self, addresses: Iterable[str] = (), local_domains: Iterable[str] = ()) -> None:
        self._by_local: dict[str, list[str]] = {}
        self.known: set[str] = set()
        """Every mailbox address known, lower case (the stores' and any added later)."""
        self.stored: frozenset[str] = frozenset()
        """The mailboxes the account stores listed (fixed at construction)."""
        self.local_domains: set[str] = {d.lower().strip(".") for d in local_domains if d}
        """Domains this server hosts: from the stores, ``--local-domain``, and authenticated
        logins seen in the logs."""
        self._cache: dict[str, str] = {}
        for address in addresses:
            self.add_mailbox(address)
        self.stored = frozenset(self.known)

    def add_mailbox(self, address: str) -> None:
        """Make ``address`` a known mailbox (its domain becomes local)."""
        key = address.strip().lower()
        if not key or key in self.known:
            return
        self.known.add(key)
        local, _, domain = key.rpartition("@")
        if domain and local:
            self._by_local.setdefault(local, []).append(key)
            self.local_domains.add(domain)
        self._cache.clear()

    def resolve(self, login: str) -> str:
        """The canonical identity of ``login`` (lower case)."""
        cached = self._cache.get(login)
        if cached is not None:
            return cached
        key = login.strip().lower()
        if "@" not in key and "%" in key:
            key = key.replace("%", "@", 1)
        if "@" not in key:
            matches = self._by_local.get(key)
            if matches is not None and len(matches) == 1:
                key = matches[0]
        if len(self._cache) < 1 << 16:
            self._cache[login] = key
        return key

    def is_stored(self, identity: str) -> bool:
        """Whether ``identity`` is a store mailbox, or a bare name that is the local part of one
        or more of them (a login the server knows, even if it is ambiguous)."""
        if identity in self.stored:
            return True
        return "@" not in identity and identity in self._by_local

    def is_local(self, domain: str) -> bool:
        """Whether mail to ``domain`` stays on this server."""
        return domain in self.local_domains
