"""Shared test setup: hypothesis profiles and the mini knowledge fixtures.

The durable adapter is imported for real: if it cannot be imported (say, durable built for the
wrong Python), every test that needs it fails loudly instead of running against a stand-in.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from engine.compile import CompiledKnowledge, compile_knowledge
from engine.knowledge import Knowledge, load_knowledge

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("soak", max_examples=2000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini"
GOLDEN = TESTS / "golden"


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
