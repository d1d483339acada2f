"""``needlewise diff OLD_DIR NEW_DIR [--cases GLOB]``: the impact of a knowledge change.

Every case (by default the new version's ``cases/*.yaml`` plus the old version's, one per file
name) is assessed under both versions; per case the changed decision, findings, depth verdicts
and questions are listed with the rules that caused each change. A case valid under one version
only is reported as such. Exit 0 nothing changed; 1 something changed (a reviewer reads it);
2 unusable input (bad knowledge, no cases, a case invalid under both versions).

With ``--db PATH`` the stored consultations of a records database are assessed too (each on its
own consultation date, erased ones skipped): the impact of a change on real clients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import glob
import sys
from collections.abc import Sequence
from pathlib import Path

from engine import KnowledgeError
from engine.kbdiff import (
    CaseDiff,
    CaseSource,
    Cause,
    KnowledgeDelta,
    default_cases,
    diff_cases,
    from_file,
    stored_sources,
)
from engine.records import RecordError, RecordStore
from tui.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURES,
    EXIT_OK,
    assessor_for,
    report_problems,
)

NAME = "diff"
HELP = "assess the cases under two knowledge versions and show what changes, and why"
_NOTES = {
    "added": "new rule",
    "removed": "removed rule",
    "changed": "rule changed",
    "fires_new": "fires only in the new version",
    "fires_old": "fired only in the old version",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``diff``."""
    parser.add_argument("old", type=Path, metavar="OLD_DIR", help="knowledge before the change")
    parser.add_argument("new", type=Path, metavar="NEW_DIR", help="knowledge after the change")
    parser.add_argument(
        "--cases",
        metavar="GLOB",
        help="case files to assess (default: NEW_DIR/cases/*.yaml plus OLD_DIR's)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="also assess the consultations stored in this records database",
    )


def run(args: argparse.Namespace) -> int:
    """Assess, compare, print."""
    try:
        old = assessor_for(args.old)
        new = assessor_for(args.new)
    except KnowledgeError as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    if args.cases:
        paths = [Path(p) for p in sorted(glob.glob(args.cases, recursive=True))]  # noqa: PTH207 - a user's glob may be absolute
    else:
        paths = default_cases(args.old, args.new)
    sources: list[CaseSource] = [
        (str(path), functools.partial(from_file, path=path, day=dt.date.today()))  # noqa: DTZ011
        for path in paths
    ]
    if args.db is not None:
        if not args.db.is_file():
            sys.stderr.write(f"needlewise diff: no records database at {args.db}\n")
            return EXIT_BAD_INPUT
        try:
            with RecordStore(args.db) as store:
                sources.extend(stored_sources(store))
        except RecordError as exc:
            sys.stderr.write(f"needlewise diff: {exc}\n")
            return EXIT_BAD_INPUT
    if not sources:
        where = args.cases or f"{args.new / 'cases'} or {args.old / 'cases'}"
        sys.stderr.write(f"needlewise diff: no case files in {where}\n")
        return EXIT_BAD_INPUT
    try:
        result = diff_cases(old, new, sources)
    finally:
        old.close()
        new.close()
    lines = [f"needlewise diff: {result.old} -> {result.new}", *_delta(result.knowledge)]
    for case in result.cases:
        lines.extend(_case(case))
    changed = sum(1 for c in result.cases if c.status != "same")
    lines.append(
        f"{len(result.cases)} case(s): {changed} changed, {len(result.cases) - changed} unchanged"
        f", {len(result.unusable)} invalid under both versions",
    )
    sys.stdout.write("\n".join(lines) + "\n")
    for case in result.unusable:
        for problem in case.problems:
            sys.stderr.write(problem.format() + "\n")
    if result.unusable:
        return EXIT_BAD_INPUT
    return EXIT_FAILURES if result.changed else EXIT_OK


def _delta(delta: KnowledgeDelta) -> list[str]:
    if delta.empty:
        return ["knowledge: no rule or code changed"]
    parts = [
        ("rules added", delta.rules_added),
        ("rules removed", delta.rules_removed),
        ("rules changed", delta.rules_changed),
        ("codes added", delta.codes_added),
        ("codes removed", delta.codes_removed),
        ("codes changed (level or action)", delta.codes_changed),
    ]
    return [f"knowledge: {label}: {', '.join(items)}" for label, items in parts if items]


def _causes(causes: Sequence[Cause], *, catalogue: bool = False) -> str:
    text = ", ".join(f"{c.rule_id} ({_NOTES[c.kind]})" for c in causes)
    if catalogue:
        text = "catalogue entry changed" + (f"; {text}" if text else "")
    return f"        caused by: {text or 'no rule difference found (cleared or overridden?)'}"


def _case(case: CaseDiff) -> list[str]:
    if case.status == "same":
        return [f"same     {case.file}"]
    if case.status.startswith("invalid"):
        which = {
            "invalid_old": "valid only under the new version",
            "invalid_new": "valid only under the old version",
            "invalid_both": "invalid under both versions",
        }[case.status]
        lines = [f"CHANGED  {case.file}: {which}"]
        lines.extend(f"        {p.format()}" for p in case.problems[:5])
        return lines
    lines = [f"CHANGED  {case.file}"]
    if case.decision:
        lines.append(f"    decision: {case.decision[0]} -> {case.decision[1]}")
    if case.provisional:
        lines.append(f"    provisional: {case.provisional[0]} -> {case.provisional[1]}")
    for f in case.findings:
        if f.before is None:
            lines.append(f"    + {f.code} ({f.after})")
        elif f.after is None:
            lines.append(f"    - {f.code} (was {f.before})")
        else:
            note = f"; {f.note}" if f.note else ""
            lines.append(f"    ~ {f.code}: {f.before} -> {f.after}{note}")
        lines.append(_causes(f.causes, catalogue=f.catalogue_changed))
    for d in case.depth:
        lines.append(f"    depth {d.zone}: {d.before} -> {d.after}")
        binding = f"{', '.join(d.binding_before) or '-'} -> {', '.join(d.binding_after) or '-'}"
        lines.append(f"        binding: {binding}")
        if d.causes:
            lines.append(_causes(d.causes))
    lines.extend(f"    + question {m}" for m in case.missing_added)
    lines.extend(f"    - question {m}" for m in case.missing_removed)
    lines.extend(f"    + unrecognized '{e}'" for e in case.unrecognized_added)
    lines.extend(f"    - unrecognized '{e}' (now recognised)" for e in case.unrecognized_removed)
    return lines
