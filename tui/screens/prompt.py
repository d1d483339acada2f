"""Small dialogs that ask: one line of text, a note to save, the confirmation of an erasure.

``PromptScreen`` asks one line (the practitioner's name, a client's name, a directory).
``NoteScreen`` asks the optional free-text note saved with a consultation. ``EraseScreen``
states what erasing a client does and asks who erases, why, and for the client's name typed
out as a deliberate confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from engine.records import fold
from tui.keymap import key
from tui.screens.form_dialog import FormDialog

NOTE_LIMIT = 20_000
"""The store's limit on a consultation's note (``engine.records``: ``save_consultation``)."""


class PromptScreen(ModalScreen[str | None]):
    """One question, one line; Enter answers, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "cancel", "Cancel", "prompt.cancel", "Close without answering"),
    ]

    def __init__(
        self,
        title: str,
        question: str,
        *,
        value: str = "",
        placeholder: str = "",
        required: bool = True,
    ) -> None:
        super().__init__()
        self.heading = title
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.required = required

    def compose(self) -> ComposeResult:
        """Title, question, input."""
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield Static(self.question, markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(
                "Enter: OK · Escape: cancel", classes="dim", id="prompt-hint", markup=False
            )

    def on_mount(self) -> None:
        """Type straight away."""
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#prompt-hint", Static).update(
                "✖ An answer is required (Escape: cancel)"
            )
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """No answer."""
        self.dismiss(None)


class NoteScreen(FormDialog[str]):
    """The optional note saved with a consultation: several lines; ctrl+s saves, Escape cancels.

    Dismissed with the note (``""`` for none), or None when the save is cancelled.
    """

    # Only this dialog has a text box: its height belongs with it, not in the shared app.tcss.
    DEFAULT_CSS = """
    NoteScreen #note-text {
        height: 8;
        margin-bottom: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        key("ctrl+s", "submit", "Save", "note.save", "Save the consultation with this note"),
        key("escape", "cancel", "Cancel", "note.cancel", "Close without saving"),
    ]

    def __init__(self, title: str, question: str, *, value: str = "") -> None:
        super().__init__()
        self.heading = title
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        """Title, question, text box, buttons."""
        with Vertical(classes="dialog"):
            yield Label(self.heading, classes="dialog-title", markup=False)
            yield Static(self.question, markup=False)
            yield TextArea(
                self.value,
                id="note-text",
                soft_wrap=True,
                tab_behavior="focus",
                placeholder="optional, e.g. patch test booked; client prefers mornings",
            )
            yield Static(
                "ctrl+s: save · Escape: cancel (not saved) · an empty note is fine",
                classes="dim",
                id="note-hint",
                markup=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        """Type straight away, after any note given."""
        text = self.query_one("#note-text", TextArea)
        text.focus()
        text.move_cursor(text.document.end)

    def action_submit(self) -> None:
        """Return the note (refused when longer than the store keeps)."""
        note = self.query_one("#note-text", TextArea).text.strip()
        if len(note) > NOTE_LIMIT:
            self.query_one("#note-hint", Static).update(
                f"✖ The note has {len(note):,} characters; at most {NOTE_LIMIT:,} are kept"
            )
            return
        self.dismiss(note)


@dataclass(frozen=True, slots=True, kw_only=True)
class EraseRequest:
    """A confirmed erasure: who erases and why (both go to the audit log)."""

    by: str
    reason: str


def erase_warning(client: Any) -> str:  # noqa: ANN401 - engine.records.ClientRecord
    """What erasing a client removes, what it keeps, and that it cannot be undone."""
    count = client.consultation_count
    return (
        "Removed for good: their name, date of birth, reference and notes, and the case, "
        f"assessment, decision and note of {count} consultation(s).\n"
        f"Kept (an audited tombstone): client #{client.id} existed; when, by whom and with which "
        "knowledge each consultation was saved; this erasure.\n"
        "This cannot be undone. Export first if the client wants a copy."
    )


class EraseScreen(FormDialog[EraseRequest]):
    """Confirm erasing a client: who, why, and the client's name typed out.

    Enter in the last field (or the Erase button) erases once every field is right; there is
    deliberately no shortcut key for it.
    """

    # One line per field, so that the whole dialog, warning included, fits an 80x24 terminal.
    DEFAULT_CSS = """
    EraseScreen .erase-row {
        height: auto;
    }
    EraseScreen .erase-label {
        width: 15;
    }
    """
    SUBMIT_ON = "erase-confirm"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "cancel", "Cancel", "erase.cancel", "Close without erasing"),
    ]

    def __init__(self, client: Any, *, by: str = "") -> None:  # noqa: ANN401 - ClientRecord
        super().__init__()
        self.client = client
        self.by = by

    def compose(self) -> ComposeResult:
        """What happens, then who, why and the confirmation."""
        name = self.client.name
        with VerticalScroll(classes="dialog"):
            yield Label(
                f"Erase client #{self.client.id}: {name}?", classes="dialog-title", markup=False
            )
            yield Static(erase_warning(self.client), id="erase-warning", markup=False)
            yield Static(
                "Who erases and why go to the audit log. Type the name to confirm.",
                classes="dim",
                markup=False,
            )
            for label, value, placeholder, ident in (
                ("Who erases", self.by, "your name", "erase-by"),
                ("Reason", "", "e.g. the client's written request", "erase-reason"),
                ("Client's name", "", name, "erase-confirm"),
            ):
                with Horizontal(classes="erase-row"):
                    yield Label(label, classes="erase-label", markup=False)
                    yield Input(value, placeholder=placeholder, id=ident, compact=True)
            yield Static("", id="erase-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Erase", id="ok", variant="error", compact=True)

    def on_mount(self) -> None:
        """Start at the first empty field."""
        first = "#erase-reason" if self.by else "#erase-by"
        self.query_one(first, Input).focus()

    def action_submit(self) -> None:
        """Erase only with who, why and the right name (case and accents do not matter)."""
        by = self.query_one("#erase-by", Input).value.strip()
        reason = self.query_one("#erase-reason", Input).value.strip()
        typed = self.query_one("#erase-confirm", Input).value
        error = self.query_one("#erase-error", Static)
        if not by:
            error.update("✖ Who is erasing is required")
            return
        if not reason:
            error.update("✖ The reason is required (it is kept in the audit log)")
            return
        if _same_name(typed, self.client.name):
            self.dismiss(EraseRequest(by=by, reason=reason))
            return
        error.update("✖ That is not the client's name: nothing was erased")


def _same_name(typed: str, name: str) -> bool:
    """Whether ``typed`` is ``name``, ignoring case, accents and runs of spaces."""

    def norm(text: str) -> str:
        return " ".join(fold(text).split())

    return bool(typed.strip()) and norm(typed) == norm(name)
