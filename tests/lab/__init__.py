"""Real-traffic lab: Postfix + Dovecot SASL on loopback, captured with tcpdump (see ``lab.py``)."""
