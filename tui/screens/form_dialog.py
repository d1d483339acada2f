"""The behaviour every small modal form shares: Enter moves on, OK submits, Cancel closes."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.screen import ModalScreen
from textual.widgets import Button, Input

ResultT = TypeVar("ResultT")


class FormDialog(ModalScreen[ResultT | None]):
    """A modal form with ``#ok`` and ``#cancel`` buttons; subclasses define ``action_submit``.

    Enter in an input moves to the next field; in ``SUBMIT_ON`` (the last input) it submits.
    Cancel, or its key binding, closes the dialog with None.
    """

    SUBMIT_ON: ClassVar[str | None] = None
    """Id of the input whose Enter submits the form (None: Enter only moves on)."""

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if self.SUBMIT_ON is not None and event.input.id == self.SUBMIT_ON:
            self.action_submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        """Check the answers and dismiss with the result (each form has its own)."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)
