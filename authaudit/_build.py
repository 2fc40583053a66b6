"""How this copy of authaudit runs: which modules are mypyc-compiled, and plain-Python mode.

``setup.py`` compiles the per-packet and per-line modules with mypyc when it can. An editable
install puts the compiled ``.so`` files beside the sources, where Python prefers them to the
``.py``. Two consequences are handled here:

* ``AUTHAUDIT_PURE=1`` in the environment makes ``import authaudit`` install a finder that loads
  every ``authaudit.*`` module from its source, ignoring compiled ones: the same program as plain
  Python, to compare results or speed, or to debug;
* :func:`stale_extensions` lists compiled modules older than their source (an edited ``.py``
  whose old ``.so`` would still be the one imported); the test suite fails on any.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["PURE_ENV", "SourceOnlyFinder", "compiled_modules", "describe", "install_pure",
           "stale_extensions"]

PURE_ENV = "AUTHAUDIT_PURE"
"""Environment variable: when set (non-empty), run every authaudit module from its source."""

_PACKAGE = Path(__file__).resolve().parent


class SourceOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds ``authaudit`` submodules in their package directories as source files only."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        """The source spec of an ``authaudit.*`` module; None for anything else."""
        if not fullname.startswith("authaudit.") or path is None:
            return None
        for entry in path:
            spec = importlib.machinery.FileFinder(
                entry, (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
            ).find_spec(fullname)
            if spec is not None:
                return spec
        return None


def install_pure() -> None:
    """Load every later ``authaudit.*`` import from source (idempotent)."""
    if not any(isinstance(finder, SourceOnlyFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, SourceOnlyFinder())


def _is_extension(path: str | None) -> bool:
    return path is not None and path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def compiled_modules() -> list[str]:
    """Names of the ``authaudit`` modules imported so far that run compiled."""
    return sorted(name for name, module in list(sys.modules.items())
                  if name.startswith("authaudit.")
                  and _is_extension(getattr(module, "__file__", None)))


def _extensions(package: Path) -> list[Path]:
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return sorted(path for path in package.rglob("*.so") if path.name.endswith(suffixes))


def stale_extensions(package: Path = _PACKAGE) -> list[str]:
    """Compiled modules in ``package`` whose ``.py`` changed after they were built."""
    stale: list[str] = []
    for ext in _extensions(package):
        source = ext.with_name(ext.name.split(".", 1)[0] + ".py")
        if source.exists() and source.stat().st_mtime > ext.stat().st_mtime:
            stale.append(str(source.relative_to(package.parent)))
    return stale


def describe() -> str:
    """One line for ``--version``: compiled or plain Python, and why."""
    if os.environ.get(PURE_ENV):
        return f"plain Python: {PURE_ENV} is set"
    count = len(_extensions(_PACKAGE))
    if not count:
        return "plain Python: no compiled modules installed"
    return f"{count} hot modules compiled with mypyc"
