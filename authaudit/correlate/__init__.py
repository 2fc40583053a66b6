"""Joining what the captures, the account stores and the mail logs say about each account."""
