"""State shared by the screens (attributes down) and the engine calls their workers make.

Not a screen: the app owns one ``Workspace`` and hands it to every screen. Only worker
threads call the functions at the bottom (they run the engine); widgets never do.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.assessment import Assessor, Trace
from engine.case import case_from_data, resolve_site
from engine.errors import CaseError, EngineError, Problem
from engine.knowledge import Knowledge
from engine.location import PathPart
from tui.widgets.answers import Built, FormAnswers, build_case_data
from tui.widgets.intake_model import FormSetup

Stamp = tuple[tuple[str, int, int], ...]
"""(file, mtime_ns, size) of every file of a knowledge directory."""


def knowledge_stamp(root: Path) -> Stamp:
    """The files of a knowledge directory with their modification times and sizes."""
    out: list[tuple[str, int, int]] = []
    try:
        paths = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    except OSError:
        return ()
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path.relative_to(root)), st.st_mtime_ns, st.st_size))
    return tuple(out)


@dataclass(slots=True)
class Workspace:
    """The knowledge in use, the records store and the session's practitioner."""

    knowledge_dir: Path
    db_path: Path | None = None
    today: dt.date | None = None
    """A fixed consultation date (tests, screenshots); None: the real today."""
    assessor: Assessor | None = None
    setup: FormSetup | None = None
    stamp: Stamp = ()
    problems: tuple[Problem, ...] = ()
    """Problems of the last failed reload (empty when the knowledge in use is current)."""
    practitioner: str | None = None
    """Asked once per session, on the first save."""
    demo: bool = False
    """Seed the database with sample clients (``--demo``)."""
    _store: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def knowledge(self) -> Knowledge | None:
        """The knowledge in use (the last good one)."""
        return self.assessor.knowledge if self.assessor is not None else None

    def date(self) -> dt.date:
        """Today's consultation date."""
        return self.today or dt.date.today()  # noqa: DTZ011 - a local calendar day

    def store(self) -> Any:  # noqa: ANN401 - engine.records.RecordStore, imported lazily
        """The records store (opened on first use)."""
        with self._lock:
            if self._store is None:
                from engine.records import RecordStore, default_db_path  # noqa: PLC0415

                path = self.db_path or default_db_path()
                self._store = RecordStore(path)
            return self._store

    def close(self) -> None:
        """Close the store and free the engine."""
        with self._lock:
            if self._store is not None and hasattr(self._store, "close"):
                self._store.close()
            self._store = None
        if self.assessor is not None:
            self.assessor.close()


# --- engine calls made from worker threads ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """An assessment of the answers, or why there is none."""

    built: Built
    trace: Trace | None
    problems: tuple[Problem, ...] = ()
    terms: Mapping[str, tuple[bool, str]] = field(default_factory=dict)
    """Case path of a term or site answer -> (recognised, how it was read)."""
    error: str = ""
    elapsed_ms: float = 0.0


_MAX_RETRIES = 3


def _drop(data: Any, path: Sequence[PathPart]) -> bool:  # noqa: ANN401
    """Remove the value at ``path`` (so a bad answer counts as unanswered)."""
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1]
    try:
        if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int)):
            node.pop(last)  # type: ignore[arg-type]  # a list index here is an int (checked)
        else:
            return False
    except (KeyError, IndexError):
        return False
    return True


def assess_answers(assessor: Assessor, setup: FormSetup, answers: FormAnswers) -> Outcome:
    """Build the case, validate it and assess it.

    Answers with problems are left out (they count as unanswered) and the rest is still
    assessed, so the findings keep up while one answer is being fixed.
    """
    start = time.perf_counter()
    knowledge = assessor.knowledge
    built = build_case_data(setup.sections, answers)
    data: Any = copy.deepcopy(dict(built.data))
    problems: list[Problem] = []
    case = None
    for _ in range(_MAX_RETRIES):
        try:
            case = case_from_data(
                knowledge, data, file="<consultation>", today=answers.consultation_date
            )
            break
        except CaseError as exc:
            problems.extend(exc.problems)
            paths = sorted((p.location.path for p in exc.problems if p.location.path), reverse=True)
            dropped = [_drop(data, path) for path in paths]
            if not any(dropped):
                break
    if case is None:
        return Outcome(
            built=built,
            trace=None,
            problems=tuple(problems),
            elapsed_ms=(time.perf_counter() - start) * 1000,
        )
    try:
        trace = assessor.trace(case)
    except EngineError as exc:
        return Outcome(built=built, trace=None, problems=tuple(problems), error=str(exc))
    return Outcome(
        built=built,
        trace=trace,
        problems=tuple(problems),
        terms=recognise(knowledge, setup, built),
        elapsed_ms=(time.perf_counter() - start) * 1000,
    )


def recognise(knowledge: Knowledge, setup: FormSetup, built: Built) -> dict[str, tuple[bool, str]]:
    """Case path of each term/site answer -> (recognised, how it was read)."""
    out: dict[str, tuple[bool, str]] = {}
    data = built.data
    for section in setup.sections:
        node: Any = data
        for part in section.source.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            continue
        for question in section.questions:
            if question.type not in {"term", "site"}:
                continue
            if section.entries:
                for i, entry in enumerate(node if isinstance(node, list) else []):
                    text = entry if section.scalar else (entry or {}).get(question.name)
                    if isinstance(text, str) and text:
                        out[f"{section.source}[{i}].{question.name}"] = _read(
                            knowledge, question.terms, question.type, text
                        )
            elif section.single_value and isinstance(node, str):
                out[section.source] = _read(knowledge, question.terms, question.type, node)
            elif isinstance(node, Mapping) and isinstance(node.get(question.name), str):
                out[question.path] = _read(
                    knowledge, question.terms, question.type, node[question.name]
                )
    return out


def _read(knowledge: Knowledge, kinds: Sequence[str], qtype: str, text: str) -> tuple[bool, str]:
    if qtype == "site":
        site = resolve_site(knowledge, text)
        if site is None:  # the same words while typing: the note is not redrawn per key
            return False, "not a site the knowledge knows"
        return True, f"site {site}"
    match = knowledge.terminology.lookup(text, kinds)  # type: ignore[arg-type]
    if match is None:
        return False, "not recognised: the questions of every class it could be in are asked"
    classes = [c for c in match.is_a if c != match.term][:3]
    how = "" if match.via == "id" else f" ({match.via})"
    kinds_text = f" · {', '.join(classes)}" if classes else ""
    return True, f"{match.term}{how}{kinds_text}"


def session_note(session: dt.date, today: dt.date) -> str:
    """'' for a session today, else when it is ("session 2027-02-16, in 80 days")."""
    days = (session - today).days
    if days == 0:
        return ""
    when = f"in {days} days" if days > 0 else f"{-days} days ago"
    if abs(days) == 1:
        when = "tomorrow" if days > 0 else "yesterday"
    return f"session {session.isoformat()}, {when}"


def notes_for(outcome: Outcome) -> list[tuple[str, str, str]]:
    """(case path, level, text) notes for the form: problems, recognition, inconsistencies."""
    notes: list[tuple[str, str, str]] = [
        (p.location.dotted(), "error", p.message + (f" ({p.hint})" if p.hint else ""))
        for p in outcome.problems
    ]
    notes.extend(
        (path, "info" if known else "warning", text)
        for path, (known, text) in outcome.terms.items()
    )
    if outcome.trace is not None:
        for inc in outcome.trace.assessment.inconsistencies:
            notes.extend((path, "warning", inc.message) for path in inc.fields)
    return notes
