"""Choose the client a consultation belongs to, or add a new one."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import EngineError
from tui.keymap import key
from tui.messages import RecordsLoaded
from tui.screens.workspace import Workspace


class ClientPickerScreen(ModalScreen[Any]):
    """Type to search; Enter on a client picks it; ctrl+n adds the typed name as a new client."""

    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "cancel", "Cancel", "picker.cancel", "Close without choosing"),
        key("ctrl+n", "add", "New client", "picker.add", "Add the typed name as a new client"),
        key("down", "to_list", "List", "picker.list", "Move to the list", show=False),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.clients: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        """Search, list."""
        with Vertical(classes="dialog"):
            yield Label(
                "Which client is this consultation for?", classes="dialog-title", markup=False
            )
            yield Input(placeholder="type to search, or a new client's full name", id="search")
            yield OptionList(id="client-options", markup=False)
            yield Static(
                "Enter: choose · ctrl+n: add the typed name as a new client · Escape: cancel",
                classes="dim",
                id="picker-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        """List every client."""
        self.query_one("#search", Input).focus()
        self._search("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker")
    def _search(self, text: str) -> None:
        try:
            rows = tuple(self.workspace.store().clients(text))
        except EngineError as exc:
            self.post_message(RecordsLoaded("clients", (), error=str(exc)))
            return
        self.post_message(RecordsLoaded("clients", rows))

    @on(RecordsLoaded)
    def _loaded(self, event: RecordsLoaded) -> None:
        event.stop()
        if event.error:
            self.query_one("#picker-hint", Static).update(f"✖ {event.error}")
            return
        self.clients = {str(c.id): c for c in event.rows}
        options = self.query_one("#client-options", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(
                    f"{c.name}  #{c.id}" + (f" · {c.reference}" if c.reference else ""),
                    id=str(c.id),
                )
                for c in event.rows
            ]
        )

    @on(Input.Changed, "#search")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#client-options", OptionList)
        if options.option_count == 1:
            option = options.get_option_at_index(0)
            self.dismiss(self.clients[str(option.id)])
        elif options.option_count:
            options.focus()
        else:
            self.action_add()

    @on(OptionList.OptionSelected, "#client-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.clients[str(event.option.id)])

    def action_to_list(self) -> None:
        """Move into the list."""
        options = self.query_one("#client-options", OptionList)
        if options.option_count:
            options.focus()
            options.highlighted = options.highlighted or 0

    @work(exclusive=True, group="picker-add", exit_on_error=False)
    async def action_add(self) -> None:
        """Add the typed name as a new client and choose it."""
        name = self.query_one("#search", Input).value.strip()
        if not name:
            self.query_one("#picker-hint", Static).update("✖ Type the new client's name first")
            return
        store, by = self.workspace.store(), self.workspace.practitioner or ""
        try:
            client = await asyncio.to_thread(store.add_client, name, by=by)  # the disk, not the UI
        except EngineError as exc:
            self.query_one("#picker-hint", Static).update(f"✖ {exc}")
            return
        self.notify(f"Client added: {client.name} (#{client.id})", markup=False)
        self.dismiss(client)

    def action_cancel(self) -> None:
        """No client."""
        self.dismiss(None)
