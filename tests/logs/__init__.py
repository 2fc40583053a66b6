"""Tests of the mail-log layer (authaudit.logs)."""
