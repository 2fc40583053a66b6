"""Tests of the account-store layer (authaudit.accounts)."""
