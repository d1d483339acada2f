"""The engine runs without any UI library, and only engine/runtime.py imports durable."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_engine_imports_no_textual_or_rich():
    code = (
        "import sys, engine, engine.assessment; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'}); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def test_cli_subcommands_import_no_textual():
    code = (
        "import sys, tui.cli; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_runtime_imports_durable():
    importers = sorted(
        str(p.relative_to(ROOT))
        for p in [*ROOT.glob("engine/**/*.py"), *ROOT.glob("tui/**/*.py")]
        if _imports(p) & {"durable", "durable_rules_engine"}
    )
    assert importers == ["engine/runtime.py"]


def test_engine_never_imports_textual():
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("engine/**/*.py")
        if _imports(p) & {"textual", "rich"}
    )
    assert offenders == []


def test_the_durable_extension_imports_on_this_python():
    """durable-rules 2.0.28 from PyPI builds on 3.13 but fails to import (PyEval_CallObject)."""
    out = subprocess.run(
        [sys.executable, "-c", "import durable_rules_engine, engine.runtime; print('ok')"],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
