"""authaudit: audit SMTP AUTH credentials in captures, account stores and mail logs."""

__version__ = "0.1.0"
__all__ = ["__version__"]
