"""Knowledge case tests: a case file under ``case:`` plus ``expect:`` (DESIGN.md section 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.case import Case, case_from_document
from engine.errors import CaseError, Problem, locate
from engine.knowledge import Knowledge
from engine.loader import Document, load_file
from engine.model import LEVEL_RANK
from engine.result import Assessment

EXPECT_KEYS = ("decision", "provisional", "findings", "absent", "depth", "missing", "unrecognized")
VERDICTS = ("within", "above_soft", "exceeds_hard", "do_not_treat", "no_sourced_limit", "unknown")
DECISIONS = (
    "PROCEED",
    "PROCEED_WITH_MODIFICATIONS",
    "NEEDS_ANSWERS",
    "DECLINE_AREA",
    "REFER_FOR_CLEARANCE",
    "DEFER",
    "DECLINE",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expect:
    """What a case test requires of the assessment."""

    decision: str | None = None
    provisional: bool | None = None
    findings: Mapping[str, str | None] = field(default_factory=dict)
    """Code -> level (None: any level) that must appear."""
    absent: tuple[str, ...] = ()
    """Codes that must not appear."""
    depth: Mapping[str, str] = field(default_factory=dict)
    """Zone -> verdict."""
    missing: tuple[str, ...] = ()
    """Case paths that must be listed as missing answers."""
    unrecognized: tuple[str, ...] = ()
    """Entries that must be listed as unrecognised."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseTest:
    """One knowledge case test."""

    file: str
    note: str
    case: Case
    expect: Expect


def load_case_test(
    knowledge: Knowledge,
    path: Path | str,
    *,
    today: dt.date | None = None,
) -> CaseTest:
    """Load a case test; raise CaseError with every problem (located)."""
    doc, problems = load_file(Path(path), str(path))
    if doc is None or problems:
        raise CaseError(problems)
    data = doc.data
    issues: list[Problem] = []

    def bad(code: str, message: str, where: tuple[str | int, ...]) -> None:
        issues.append(
            Problem(code=code, message=message, location=locate(doc.index, doc.file, where))
        )

    if not isinstance(data, dict):
        raise CaseError(
            [
                Problem(
                    code="casetest.bad_type",
                    message="a case test is a mapping",
                    location=locate(doc.index, doc.file, ()),
                )
            ]
        )
    for key in data:
        if key not in {"note", "case", "expect"}:
            bad("casetest.unknown_key", f"unknown key '{key}'; expected note, case, expect", (key,))
    if "case" not in data:
        bad("casetest.missing_key", "a case test needs 'case:'", ())
    if "expect" not in data:
        bad("casetest.missing_key", "a case test needs 'expect:'", ())
    expect = _expect(knowledge, doc, data.get("expect"), bad)
    case: Case | None = None
    try:
        case = case_from_document(knowledge, doc, data.get("case"), prefix=("case",), today=today)
    except CaseError as exc:
        issues.extend(exc.problems)
    if issues or case is None:
        raise CaseError(issues)
    return CaseTest(
        file=doc.file, note=str(data.get("note", Path(path).stem)), case=case, expect=expect
    )


def _expect(knowledge: Knowledge, doc: Document, raw: Any, bad: Any) -> Expect:  # noqa: ANN401, C901
    del doc
    if not isinstance(raw, dict):
        if raw is not None:
            bad("casetest.bad_type", "'expect' is a mapping", ("expect",))
        return Expect()
    for key in raw:
        if key not in EXPECT_KEYS:
            bad(
                "casetest.unknown_key",
                f"unknown key '{key}' in expect; expected one of {', '.join(EXPECT_KEYS)}",
                ("expect", key),
            )
    decision = raw.get("decision")
    if decision is not None and decision not in DECISIONS:
        bad("casetest.bad_value", f"unknown decision '{decision}'", ("expect", "decision"))
    findings: dict[str, str | None] = {}
    raw_findings = raw.get("findings") or {}
    if isinstance(raw_findings, list):
        raw_findings = dict.fromkeys(raw_findings)
    if not isinstance(raw_findings, dict):
        bad("casetest.bad_type", "'findings' maps codes to levels", ("expect", "findings"))
        raw_findings = {}
    for code, level in raw_findings.items():
        if code not in knowledge.catalogue:
            bad(
                "casetest.unknown_code",
                f"unknown finding code '{code}'",
                ("expect", "findings", code),
            )
        if level is not None and level not in LEVEL_RANK:
            bad("casetest.bad_value", f"unknown level '{level}'", ("expect", "findings", code))
        findings[str(code)] = None if level is None else str(level)
    absent = raw.get("absent") or []
    for i, code in enumerate(absent):
        if code not in knowledge.catalogue:
            bad("casetest.unknown_code", f"unknown finding code '{code}'", ("expect", "absent", i))
    depth = raw.get("depth") or {}
    for zone, verdict in depth.items():
        if verdict not in VERDICTS:
            bad("casetest.bad_value", f"unknown verdict '{verdict}'", ("expect", "depth", zone))
    provisional = raw.get("provisional")
    return Expect(
        decision=decision,
        provisional=provisional if isinstance(provisional, bool) else None,
        findings=findings,
        absent=tuple(str(c) for c in absent),
        depth={str(k): str(v) for k, v in depth.items()},
        missing=tuple(str(m) for m in raw.get("missing") or []),
        unrecognized=tuple(str(u) for u in raw.get("unrecognized") or []),
    )


MismatchKind = Literal[
    "decision",
    "provisional",
    "finding_missing",
    "finding_level",
    "finding_unexpected",
    "depth",
    "missing",
    "unrecognized",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """One way an assessment differs from what a case test expects."""

    kind: MismatchKind
    subject: str
    """The code, zone, case path or entry concerned (empty for decision and provisional)."""
    message: str


def mismatches(expect: Expect, result: Assessment) -> list[Mismatch]:
    """Every way the assessment differs from what the test expects (empty: it passes)."""
    out: list[Mismatch] = []
    if expect.decision is not None and result.decision != expect.decision:
        message = f"decision: expected {expect.decision}, got {result.decision}"
        out.append(Mismatch(kind="decision", subject="", message=message))
    if expect.provisional is not None and result.provisional != expect.provisional:
        message = f"provisional: expected {expect.provisional}, got {result.provisional}"
        out.append(Mismatch(kind="provisional", subject="", message=message))
    got = {f.code: f for f in result.findings}
    for code, level in expect.findings.items():
        finding = got.get(code)
        if finding is None:
            message = f"finding {code}: expected, not raised"
            out.append(Mismatch(kind="finding_missing", subject=code, message=message))
        elif level is not None and finding.level != level:
            message = f"finding {code}: expected level {level}, got {finding.level}"
            out.append(Mismatch(kind="finding_level", subject=code, message=message))
    out.extend(
        Mismatch(
            kind="finding_unexpected",
            subject=code,
            message=f"finding {code}: must not appear, raised by {', '.join(got[code].rules)}",
        )
        for code in expect.absent
        if code in got
    )
    verdicts = {d.zone: d.verdict for d in result.depth}
    for zone, verdict in expect.depth.items():
        if verdicts.get(zone) != verdict:
            message = f"depth {zone}: expected {verdict}, got {verdicts.get(zone, 'not planned')}"
            out.append(Mismatch(kind="depth", subject=zone, message=message))
    missing = {m.field for m in result.missing}
    out.extend(
        Mismatch(kind="missing", subject=path, message=f"missing {path}: expected to be asked")
        for path in expect.missing
        if path not in missing
    )
    entries = {u.entry for u in result.unrecognized}
    out.extend(
        Mismatch(
            kind="unrecognized",
            subject=entry,
            message=f"unrecognized '{entry}': expected to be listed",
        )
        for entry in expect.unrecognized
        if entry not in entries
    )
    return out


def compare(expect: Expect, result: Assessment) -> list[str]:
    """Every way the assessment differs from what the test expects (empty: it passes)."""
    return [m.message for m in mismatches(expect, result)]


def load_case_only(
    knowledge: Knowledge,
    path: Path | str,
    *,
    today: dt.date | None = None,
) -> Case:
    """A case file, or the ``case:`` of a case test without checking its ``expect:``.

    ``needlewise diff`` assesses case tests under two knowledge versions; their expectations may
    name codes that only one version has, which must not make the case unusable.
    """
    doc, problems = load_file(Path(path), str(path))
    if doc is None or problems:
        raise CaseError(problems)
    data = doc.data
    if isinstance(data, dict) and "case" in data and "expect" in data:
        return case_from_document(knowledge, doc, data["case"], prefix=("case",), today=today)
    return case_from_document(knowledge, doc, data, today=today)
