"""The app's messages: small typed dataclasses carrying immutable results (messages up).

Workers post the ``...Ready``/``...Finished`` ones with engine results; widgets post the
``...Selected`` ones when the practitioner picks something to explain or to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from engine.assessment import Assessor
from engine.errors import Problem
from engine.explain import How, WhyAsked, WhyNot
from engine.suggest import Suggestion
from engine.whatif import Change
from tui.screens.workspace import Outcome
from tui.widgets.answers import FormAnswers
from tui.widgets.intake_model import FormSetup


@dataclass
class KnowledgeLoaded(Message):
    """A knowledge directory loaded and compiled (first load or reload)."""

    assessor: Assessor
    setup: FormSetup
    """The intake form's questions for this knowledge."""
    stamp: tuple[tuple[str, int, int], ...]
    """(file, mtime_ns, size) of every file it was loaded from."""
    warnings: int = 0


@dataclass
class KnowledgeFailed(Message):
    """A knowledge (re)load failed: the last good knowledge stays in use."""

    problems: tuple[Problem, ...]
    stamp: tuple[tuple[str, int, int], ...]
    message: str = ""


@dataclass
class IntakeChanged(Message):
    """An answer of the intake form changed."""

    answers: FormAnswers


@dataclass
class AssessmentFinished(Message):
    """An assessment of the case as entered (or the problems that stopped it)."""

    generation: int
    """Which change it answers (older ones are dropped)."""
    outcome: Outcome


@dataclass
class FindingSelected(Message):
    """A finding was chosen in the results (explain it)."""

    code: str


@dataclass
class DepthSelected(Message):
    """A zone's depth verdict was chosen (explain it)."""

    zone: str


@dataclass
class DecisionSelected(Message):
    """The decision banner was chosen (explain the decision)."""


@dataclass
class MissingSelected(Message):
    """A missing answer was chosen (jump to its question)."""

    field: str


@dataclass
class ExplanationReady(Message):
    """A HOW explanation is ready."""

    how: How


@dataclass
class WhyNotReady(Message):
    """A WHY NOT explanation is ready."""

    why: WhyNot


@dataclass
class WhyAskedReady(Message):
    """A WHY ASKED explanation is ready."""

    why: WhyAsked


@dataclass
class SuggestionsReady(Message):
    """Verified suggestions are ready."""

    suggestions: tuple[Suggestion, ...]
    error: str = ""


@dataclass
class RecordsLoaded(Message):
    """Rows read from the records store."""

    kind: str
    """What the rows are: ``clients`` (client records), ``consultations`` (a client's
    consultation records), ``erasure`` (one row: the highlighted client's erasure, or None),
    ``saved`` (one row: the consultation just saved) or ``erased`` (one row: the erased client's
    id). ``rows`` is empty when ``error`` says why the store refused."""
    rows: tuple[Any, ...]
    error: str = ""


@dataclass
class ExportFinished(Message):
    """Reports were written."""

    paths: tuple[str, ...]
    error: str = ""


# --- results of pushed screens (dismiss values; not posted) ----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyChanges:
    """Change the plan (a verified suggestion)."""

    changes: tuple[Change, ...]
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftDate(ApplyChanges):
    """Plan the session for a later date (a "wait" suggestion).

    The consultation date becomes ``until`` and every "days ago" answer grows by the gap
    (``engine.whatif.shift_days``, as the CLI's ``--on``).

    An ``ApplyChanges`` with no plan change, so that the screens that pass an applied suggestion
    on (the explanation) pass this one on too; the consultation screen shifts the date.
    """

    until: str
    """The new consultation date (ISO)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddRecord:
    """Record a clearance or an override for a finding."""

    kind: str
    """``clearance`` or ``override``."""
    record: Mapping[str, str]
    """``{code, by, date, note}`` or ``{code, by, reason}`` (the case file's shape)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveRecord:
    """Take back a clearance or an override of a finding."""

    kind: str
    """``clearance`` or ``override``."""
    code: str
