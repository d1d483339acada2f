"""Fixtures of the TUI tests: the app on a fixed date with a fresh database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import DEFAULT_KNOWLEDGE
from tests.tui.helpers import TODAY
from tui.app import ExpertApp, make_app


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh records database per test."""
    return tmp_path / "records.sqlite3"


@pytest.fixture
def app(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ExpertApp:
    """The app on the bundled knowledge, a fresh database, no user keymap, a fixed date."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NEEDLEWISE_KEYMAP", raising=False)
    monkeypatch.setenv("NEEDLEWISE_EXPORT_DIR", str(tmp_path / "exports"))
    return make_app(DEFAULT_KNOWLEDGE, db_path, today=TODAY, watch=False)


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge (for reload tests)."""
    root = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root
