"""The mypyc build (setup.py) and authaudit._build: compiled modules agree with their sources."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from authaudit._build import PURE_ENV, SourceOnlyFinder, describe, stale_extensions

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "pcaps" / "public"
DEMO_LOGS = ROOT / "tests" / "data" / "demo" / "logs"


def _compiled_list() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [str(v) for v in value]
    raise AssertionError("setup.py has no COMPILED list")


def test_compiled_list_names_existing_modules_once() -> None:
    names = _compiled_list()
    assert len(names) == len(set(names)) >= 20
    for name in names:
        assert (ROOT / name).is_file(), name
        assert name.startswith("authaudit/") and name.endswith(".py")


def test_no_compiled_module_is_older_than_its_source() -> None:
    assert stale_extensions() == [], "rebuild: pip install -e . (or make), or AUTHAUDIT_PURE=1"


def test_stale_extension_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    ext = package / "mod.cpython-311-x86_64-linux-gnu.so"
    ext.write_bytes(b"")
    source = package / "mod.py"
    source.write_text("x = 1\n")
    os.utime(ext, (1_000_000, 1_000_000))
    os.utime(source, (2_000_000, 2_000_000))
    assert stale_extensions(package) == ["pkg/mod.py"]
    os.utime(ext, (3_000_000, 3_000_000))
    assert stale_extensions(package) == []


def test_source_only_finder_ignores_other_packages() -> None:
    finder = SourceOnlyFinder()
    assert finder.find_spec("json.decoder", None) is None
    assert finder.find_spec("authaudit", None) is None
    spec = finder.find_spec("authaudit.pcap.ip", [str(ROOT / "authaudit" / "pcap")])
    assert spec is not None and spec.origin == str(ROOT / "authaudit" / "pcap" / "ip.py")
    assert finder.find_spec("authaudit.pcap.nothing", [str(ROOT / "authaudit" / "pcap")]) is None


def _run(args: list[str], *, pure: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != PURE_ENV}
    if pure:
        env[PURE_ENV] = "1"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False,
                          env=env, cwd=ROOT)


def test_pure_mode_loads_every_module_from_source() -> None:
    code = ("import authaudit._build as b, authaudit.pcap.decode, authaudit.logs.fastscan;"
            "print(b.compiled_modules()); print(b.describe());"
            "print(authaudit.pcap.decode.__file__)")
    proc = _run(["-c", code], pure=True)
    assert proc.returncode == 0, proc.stderr
    listed, described, path = proc.stdout.splitlines()
    assert listed == "[]"
    assert described == f"plain Python: {PURE_ENV} is set"
    assert path == str(ROOT / "authaudit" / "pcap" / "decode.py")


def test_describe_names_the_mode() -> None:
    text = describe()
    assert text.startswith("plain Python: ") or text.endswith("hot modules compiled with mypyc")


def _report(args: list[str], *, pure: bool) -> Any:
    proc = _run(["-m", "authaudit", *args, "--format", "json", "--show-secrets"], pure=pure)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    report.pop("generated_at")
    return report


@pytest.mark.parametrize("args", [
    ["pcap", "--no-crack", *sorted(str(p) for p in CAPTURES.glob("*.pcap*"))],
    ["logs", *sorted(str(p) for p in DEMO_LOGS.rglob("*") if p.is_file()
                     and p.suffix != ".json")],
], ids=["pcap-corpus", "demo-logs"])
def test_compiled_and_plain_python_give_the_same_report(args: list[str]) -> None:
    assert _report(args, pure=False) == _report(args, pure=True)


@pytest.mark.skipif(not os.environ.get("AUTHAUDIT_EXPECT_COMPILED"),
                    reason="only where the build must be compiled (make test sets it)")
def test_make_test_runs_the_compiled_build() -> None:
    assert describe().endswith("hot modules compiled with mypyc"), describe()
    assert int(describe().split()[0]) == len(_compiled_list())
