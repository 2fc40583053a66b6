"""``python -m authaudit``: the command-line interface."""

import sys

from authaudit._cli import main

sys.exit(main())
