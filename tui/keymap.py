"""Keys: the user keymap, the bindings' constructor and the footer that shows them.

The user keymap maps binding ids to keys, read from TOML or JSON and applied with
``set_keymap``. Looked up in order: an explicit path (``--keymap``), ``$NEEDLEWISE_KEYMAP``,
then ``$XDG_CONFIG_HOME/needlewise/keymap.toml`` or ``keymap.json`` (``~/.config`` by
default). Either a flat table (``"consultation.save" = "ctrl+s,f10"``) or one under
``[keymap]``. Binding ids are listed in docs/tui-keys.md. ``key()`` builds the app's bindings
with their ids. ``KeyFooter`` shows every key that applies where the focus is, at any width.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


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


# --- the footer -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FooterItem:
    """One key the footer shows."""

    key: str
    display: str
    """The key as shown (``^s``, ``f5``); the user's keymap is applied."""
    description: str
    action: str
    enabled: bool = True
    tooltip: str = ""
    is_global: bool = False
    """An app-wide key (help, modes, quit, palette): shown without its description when the
    width is short, so that the keys of the focused context keep theirs."""

    def width(self, *, described: bool) -> int:
        """Cells taken in the compact footer (key, space, description)."""
        if described and self.description:
            return cell_len(self.display) + 1 + cell_len(self.description)
        return cell_len(self.display)


def flow(
    items: Sequence[FooterItem], width: int, *, describe_globals: bool, own_row: bool = False
) -> list[list[tuple[FooterItem, bool]]]:
    """Items in rows of at most ``width`` cells (one space between), in order.

    Each item is paired with whether its description is shown; ``own_row``: the app-wide keys
    start a row of their own. An item wider than a row gets a row of its own (and is cut by the
    terminal, never hidden).
    """
    rows: list[list[tuple[FooterItem, bool]]] = [[]]
    used = 0
    previous: FooterItem | None = None
    for item in items:
        described = describe_globals or not item.is_global
        cells = item.width(described=described)
        gap = 1 if rows[-1] else 0
        first_global = (
            own_row and item.is_global and previous is not None and not previous.is_global
        )
        if rows[-1] and (used + gap + cells > width or first_global):
            rows.append([])
            used, gap = 0, 0
        rows[-1].append((item, described))
        used += gap + cells
        previous = item
    return rows if rows[0] else []


def footer_rows(
    items: Sequence[FooterItem], width: int, rows: int = 1
) -> list[list[tuple[FooterItem, bool]]]:
    """The footer's rows: every item, the focused context's with their descriptions.

    The fewest rows that hold every key, or ``rows`` (what the footer has anyway) when more;
    within that, the app-wide keys get a row of their own and their descriptions if they fit.
    Rows are added rather than a key hidden.
    """
    fewest = flow(items, width, describe_globals=False)
    allowed = max(rows, len(fewest))
    for describe, own_row in ((True, True), (True, False), (False, True)):
        laid = flow(items, width, describe_globals=describe, own_row=own_row)
        if len(laid) <= allowed:
            return laid
    return fewest


class KeyFooter(Footer):
    """A footer that never hides a key.

    The keys of the focused widget and its containers come first, then the screen's, then the
    app-wide ones (help, modes, quit, the command palette), which lose their descriptions when
    the width is short (their tooltips keep them). When even that does not fit, the footer takes
    another row instead of cutting keys off (Textual's own footer scrolls them out of sight).
    It keeps the most rows it needed at a width, so that moving the focus or typing does not
    make the screen above it jump.
    """

    DEFAULT_CSS = """
    KeyFooter {
        layout: vertical;
        height: auto;
        max-height: 4;
    }
    KeyFooter > .footer-row {
        width: 1fr;
        height: 1;
    }
    KeyFooter FooterKey {
        margin-right: 1;
    }
    KeyFooter FooterKey.-global .footer-key--key {
        text-style: none;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002 - Textual's own parameter name
        """A compact footer (the command palette key is one of the app-wide keys)."""
        super().__init__(id=id, classes=classes, compact=True)
        self._laid_out_for = 0
        self._rows = 1
        """The most rows needed at this width."""

    def items(self) -> list[FooterItem]:
        """The keys to show: focused context first, app-wide last (one key per action)."""
        app = self.app
        seen: set[tuple[int, str]] = set()
        context: list[FooterItem] = []
        app_wide: list[FooterItem] = []
        palette: FooterItem | None = None
        for key, active in self.screen.active_bindings.items():
            binding, namespace = active.binding, active.node
            is_global = namespace is app
            if key == app.COMMAND_PALETTE_BINDING and is_global:
                if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
                    palette = _item(app.get_key_display(binding), active, is_global=True)
                continue
            if not binding.show or binding.system or (id(namespace), binding.action) in seen:
                continue
            seen.add((id(namespace), binding.action))
            item = _item(app.get_key_display(binding), active, is_global=is_global)
            (app_wide if is_global else context).append(item)
        return context + app_wide + ([palette] if palette is not None else [])

    def compose(self) -> ComposeResult:
        """Rows of keys for the footer's width."""
        if not self._bindings_ready:
            return
        width = self.size.width or self.screen.size.width or self.app.size.width
        if width != self._laid_out_for:
            self._laid_out_for, self._rows = width, 1
        rows = footer_rows(self.items(), width, self._rows)
        self._rows = max(self._rows, len(rows))
        self.styles.min_height = self._rows
        for row in rows:
            with HorizontalGroup(classes="footer-row"):
                for item, described in row:
                    yield FooterKey(
                        item.key,
                        item.display,
                        item.description if described else "",
                        item.action,
                        disabled=not item.enabled,
                        tooltip=item.tooltip or item.description,
                        # always compact (Textual's footer binds this to its own flag)
                        classes="-compact -global" if item.is_global else "-compact",
                    )

    def on_resize(self, event: events.Resize) -> None:
        """Lay the keys out again for a new width."""
        if self._bindings_ready and event.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)


def _item(display: str, active: ActiveBinding, *, is_global: bool) -> FooterItem:
    binding = active.binding
    return FooterItem(
        key=binding.key,
        display=display,
        description=binding.description,
        action=binding.action,
        enabled=active.enabled,
        tooltip=active.tooltip,
        is_global=is_global,
    )
