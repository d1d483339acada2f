"""The user keymap: binding id -> keys, read from TOML or JSON and applied with ``set_keymap``.

Looked up in order: an explicit path (``--keymap``), ``$NEEDLEWISE_KEYMAP``, then
``$XDG_CONFIG_HOME/needlewise/keymap.toml`` or ``keymap.json`` (``~/.config`` by default).
Either a flat table (``"consultation.save" = "ctrl+s,f10"``) or one under ``[keymap]``.
Binding ids are listed in docs/tui-keys.md. ``key()`` builds the app's bindings with their ids.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding


@dataclass(frozen=True, slots=True, kw_only=True)
class UserKeymap:
    """A keymap as read, with where it came from and any problems."""

    keys: dict[str, str]
    path: Path | None = None
    problems: tuple[str, ...] = ()


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/needlewise`` (``~/.config/needlewise`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "needlewise"


def find_keymap(explicit: Path | None = None) -> Path | None:
    """The keymap file to read, if there is one."""
    if explicit is not None:
        return explicit
    env = os.environ.get("NEEDLEWISE_KEYMAP")
    if env:
        return Path(env)
    for name in ("keymap.toml", "keymap.json"):
        candidate = config_dir() / name
        if candidate.is_file():
            return candidate
    return None


def load_keymap(path: Path | None) -> UserKeymap:
    """Read a keymap file (an absent path gives an empty keymap)."""
    if path is None:
        return UserKeymap(keys={})
    try:
        text = path.read_text(encoding="utf-8")
        raw: object = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return UserKeymap(keys={}, path=path, problems=(f"{path}: cannot read keymap: {exc}",))
    if isinstance(raw, dict) and isinstance(raw.get("keymap"), dict):
        raw = raw["keymap"]
    if not isinstance(raw, dict):
        return UserKeymap(keys={}, path=path, problems=(f"{path}: expected a table of id = keys",))
    keys: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)  # noqa: PLW2901
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{path}: '{binding_id}': expected keys such as \"ctrl+s\"")
            continue
        keys[str(binding_id)] = value.strip()
    return UserKeymap(keys=keys, path=path, problems=tuple(problems))


def key(
    keys: str,
    action: str,
    description: str,
    binding_id: str,
    tooltip: str,
    *,
    show: bool = True,
    priority: bool = False,
) -> Binding:
    """A Binding with the id (for the keymap) and the tooltip every binding here has."""
    return Binding(
        keys,
        action,
        description,
        show=show,
        priority=priority,
        id=binding_id,
        tooltip=tooltip,
    )
