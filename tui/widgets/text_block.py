"""Plain text that is only re-rendered when it changes (no markup: answers may hold brackets)."""

from __future__ import annotations

from textual.widgets import Static


class TextBlock(Static):
    """A Static for changing plain text; ``set_text`` skips the relayout when nothing changed."""

    def __init__(
        self,
        text: str = "",
        *,
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
        classes: str | None = None,
    ) -> None:
        super().__init__(text, id=id, classes=classes, markup=False)
        self.text = text

    def set_text(self, text: str) -> bool:
        """Show ``text``; False when it was already shown."""
        if text == self.text:
            return False
        self.text = text
        self.update(text)
        return True
