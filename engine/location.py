"""Source positions of YAML nodes, so every problem can name file:line:col."""

from __future__ import annotations

from dataclasses import dataclass

PathPart = str | int
"""One step of a path into a document: a mapping key or a list index."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a value stands in a source file (1-based line and column)."""

    file: str
    """Path of the file, as given to the loader."""
    line: int = 0
    """1-based line; 0 when the position is unknown (never invented)."""
    column: int = 0
    """1-based column; 0 when unknown."""
    path: tuple[PathPart, ...] = ()
    """Keys and indexes from the document root to the value."""

    def __str__(self) -> str:
        """Render as ``file:line:col`` (or ``file`` when no position is known)."""
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def dotted(self) -> str:
        """Render the path as ``a.b[2].c``."""
        return format_path(self.path)


def format_path(path: tuple[PathPart, ...]) -> str:
    """Render a document path as ``a.b[2].c``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
