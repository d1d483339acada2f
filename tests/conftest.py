"""Shared test setup: runtime stub, hypothesis profiles and the mini knowledge fixtures."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

try:
    import engine.runtime  # noqa: F401
except ImportError:
    # The durable adapter is being written; unit tests of pure modules don't need it.
    # ModuleNotFoundError while runtime.py is missing; ImportError while it is half-written (the
    # facade imports names it does not define yet). Drop the half-imported package, then stub.
    for _name in [m for m in sys.modules if m == "engine" or m.startswith("engine.")]:
        del sys.modules[_name]
    stub = types.ModuleType("engine.runtime")
    stub.ENGINE_VERSION = "stub"  # type: ignore[attr-defined]
    stub.RuleEngine = object  # type: ignore[attr-defined]
    stub.RunResult = object  # type: ignore[attr-defined]

    # Names the facade gains while runtime.py is written (e.g. Firing) resolve to a placeholder too.
    def _placeholder(name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        return object

    stub.__getattr__ = _placeholder  # type: ignore[method-assign]
    sys.modules["engine.runtime"] = stub

from engine.compile import CompiledKnowledge, compile_knowledge
from engine.knowledge import Knowledge, load_knowledge

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("soak", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini"
GOLDEN = TESTS / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    # pyproject.toml sets pytest-asyncio options under --strict-config; without the plugin
    # (a minimal dev env) those keys would stop the whole run, so declare them as no-ops.
    if importlib.util.find_spec("pytest_asyncio") is None:
        parser.addini("asyncio_mode", "placeholder: pytest-asyncio is not installed")
        parser.addini(
            "asyncio_default_fixture_loop_scope",
            "placeholder: pytest-asyncio is not installed",
        )


@pytest.fixture(scope="session")
def mini_knowledge() -> Knowledge:
    return load_knowledge(MINI)


@pytest.fixture(scope="session")
def mini_compiled(mini_knowledge: Knowledge) -> CompiledKnowledge:
    return compile_knowledge(mini_knowledge)


Edit = tuple[str, str, str | None]
"""(file under the knowledge root, exact text to replace, new text or None to delete the file)."""
SeedMistakes = Callable[..., Path]


@pytest.fixture
def seed_mistakes(tmp_path: Path) -> SeedMistakes:
    """Copy the mini knowledge under tmp_path and apply textual edits to the copy."""

    def make(*edits: Edit, name: str = "mini") -> Path:
        root = tmp_path / name
        shutil.copytree(MINI, root)
        for rel, old, new in edits:
            path = root / rel
            if new is None:
                path.unlink()
                continue
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, f"seeding {rel}: {old!r} must occur exactly once"
            path.write_text(text.replace(old, new), encoding="utf-8")
        return root

    return make


Golden = Callable[[Path, str], None]


@pytest.fixture
def golden() -> Golden:
    """Compare text to a golden file; UPDATE_GOLDEN=1 rewrites the file instead."""

    def check(path: Path, actual: str) -> None:
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        rel = path.relative_to(TESTS.parent)
        assert path.exists(), f"golden file {rel} is missing; create it with UPDATE_GOLDEN=1"
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, (
            f"output differs from golden file {rel}; if the change is intended, rerun with "
            "UPDATE_GOLDEN=1 to rewrite it and review the diff"
        )

    return check
