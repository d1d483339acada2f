"""Errors are data: problems with a stable code, a message, a location and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engine.location import Location, PathPart

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One author-facing problem, printed as ``file:line:col: severity code: message``."""

    code: str
    """Stable dotted code, e.g. ``rule.unknown_source``."""
    message: str
    """What is wrong and what was expected."""
    location: Location
    """Where the problem is (file, and line/column when known)."""
    severity: Severity = "error"
    """``error`` blocks use of the input; ``warning`` does not."""
    hint: str = ""
    """How to fix it, when a fix can be suggested."""

    def format(self) -> str:
        """Render in the house format, with the hint on a following line."""
        text = f"{self.location}: {self.severity} {self.code}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


@dataclass(slots=True)
class Problems:
    """Collects every problem before failing, so authors see them all at once."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Record a problem."""
        self.items.append(problem)

    def extend(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        """Record several problems."""
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``error``."""
        return [p for p in self.items if p.severity == "error"]

    def __bool__(self) -> bool:
        """True when any problem was recorded."""
        return bool(self.items)

    def sorted(self) -> tuple[Problem, ...]:
        """Problems in file, line, column order."""
        return tuple(
            sorted(
                self.items,
                key=lambda p: (p.location.file, p.location.line, p.location.column, p.code),
            ),
        )


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class InputError(EngineError):
    """Unusable input (knowledge or case): carries every problem found."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        """Keep the problems, sorted by position."""
        self.problems = tuple(
            sorted(
                problems,
                key=lambda p: (p.location.file, p.location.line, p.location.column, p.code),
            ),
        )
        super().__init__(f"{len(self.errors)} error(s)")

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    def format(self) -> str:
        """All problems, one per line, in the house format."""
        return "\n".join(p.format() for p in self.problems)


class KnowledgeError(InputError):
    """The knowledge base could not be loaded, validated or compiled."""


class CaseError(InputError):
    """A case file could not be loaded or validated."""


class AssessmentError(EngineError):
    """The engine failed while assessing a valid case (a defect, never bad input)."""


def problem_at(
    code: str,
    message: str,
    file: str,
    path: tuple[PathPart, ...] = (),
    *,
    index: dict[tuple[PathPart, ...], Location] | None = None,
    severity: Severity = "error",
    hint: str = "",
) -> Problem:
    """Build a problem at a document path, using the loader's position index when it has one."""
    location = Location(file=file, path=path)
    if index is not None:
        location = locate(index, file, path)
    return Problem(code=code, message=message, location=location, severity=severity, hint=hint)


def locate(
    index: dict[tuple[PathPart, ...], Location],
    file: str,
    path: tuple[PathPart, ...],
) -> Location:
    """The position of ``path``, or of its nearest known ancestor (never an invented line)."""
    probe = path
    while True:
        found = index.get(probe)
        if found is not None:
            return Location(file=file, line=found.line, column=found.column, path=path)
        if not probe:
            return Location(file=file, path=path)
        probe = probe[:-1]
