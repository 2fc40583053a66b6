"""authaudit: audit SMTP AUTH credentials in captures, account stores and mail logs."""

import os

__version__ = "0.1.0"
__all__ = ["__version__"]

if os.environ.get("AUTHAUDIT_PURE"):  # see authaudit._build
    from authaudit._build import install_pure

    install_pure()
