"""The SMTP layer: from the reassembled bytes of a TCP connection to AUTH attempts and TLS events.

``detect`` tells SMTP (and which side is the client) from other traffic by content;
``session.SmtpSession`` follows one connection sans-IO and yields ``events``; ``verify`` checks
candidate passwords against the challenge-response secrets the mechanism decoders produce. The
other modules are their parts: ``buffer`` (lines and bodies), ``replies`` and ``pairing`` (server
side), ``commands``, ``states`` (the one transitions table), ``conversation`` (the engine),
``attempt``, ``sasl`` / ``mechanisms`` / ``ntlm`` (credential decoding), ``tls``, ``b64``, ``text``.
"""
