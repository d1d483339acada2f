"""Record a clearance (who, when, note) or an override (who, reason) for a finding."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from tui.keymap import key
from tui.messages import AddRecord
from tui.screens.form_dialog import FormDialog


class RecordScreen(FormDialog[AddRecord]):
    """A small form; Enter in the last field (or ctrl+s) records it."""

    SUBMIT_ON = "note"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "cancel", "Cancel", "record.cancel", "Close without recording"),
        key("ctrl+s", "submit", "Record", "record.submit", "Record it"),
    ]

    def __init__(self, kind: str, code: str, *, by: str = "", today: dt.date) -> None:
        super().__init__()
        self.kind = kind
        self.code = code
        self.by = by
        self.today = today

    def compose(self) -> ComposeResult:
        """The fields of a clearance or an override."""
        with Vertical(classes="dialog"):
            if self.kind == "clearance":
                yield Label(f"Clearance of {self.code}", classes="dialog-title", markup=False)
                yield Static("Who cleared it (prescriber / physician)?", markup=False)
                yield Input(placeholder="e.g. Dr A. Smith (GP)", id="by")
                yield Static("Date of the clearance", markup=False)
                yield Input(self.today.isoformat(), placeholder="YYYY-MM-DD", id="date")
                yield Static("Note", markup=False)
                yield Input(placeholder="e.g. INR stable", id="note")
            else:
                yield Label(f"Override of {self.code}", classes="dialog-title", markup=False)
                yield Static("Who decides (you)?", markup=False)
                yield Input(self.by, placeholder="practitioner name", id="by")
                yield Static("Reason (recorded and shown in reports)", markup=False)
                yield Input(placeholder="e.g. test patch 6 weeks ago, no PIH", id="note")
            yield Static("", id="record-error", classes="dim", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Record", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        """Start at the first field."""
        self.query_one("#by", Input).focus()

    def action_submit(self) -> None:
        """Check and return the record."""
        by = self.query_one("#by", Input).value.strip()
        note = self.query_one("#note", Input).value.strip()
        error = self.query_one("#record-error", Static)
        if not by:
            error.update("✖ Who is required")
            return
        if self.kind == "clearance":
            date = self.query_one("#date", Input).value.strip()
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                error.update("✖ The date must be YYYY-MM-DD")
                return
            record = {"code": self.code, "by": by, "date": date, "note": note}
        else:
            if not note:
                error.update("✖ An override needs its reason")
                return
            record = {"code": self.code, "by": by, "reason": note}
        self.dismiss(AddRecord(kind=self.kind, record=record))
