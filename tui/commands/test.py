"""``needlewise test [DIR] [-k NAME] [--coverage]``: run the knowledge's case tests.

One line per case (PASS / FAIL / ERROR). A failure shows the case file, what was expected, what
came out, and the explanation of each difference: the HOW of an unexpected finding (or a wrong
level, decision or depth verdict) and the WHY-NOT of a missing one. With ``--coverage``: which
rules fired, which conditions were seen both true and false, which codes were raised and not
raised (``--coverage-report`` writes it as Markdown or HTML; ``--fail-under`` sets a threshold).
Exit 0 all passed; 1 a failure (or coverage below the threshold); 2 unusable input.
"""

from __future__ import annotations

import argparse
import html
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from engine import Assessor, CaseError, KnowledgeError
from engine.casetest import CaseTest, Expect, Mismatch, load_case_test, mismatches
from engine.coverage import CaseRun, Coverage, measure
from engine.evaluate import Evaluation
from engine.explain import how_decision, how_depth, how_finding, why_not
from engine.result import Assessment
from tui.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURES,
    EXIT_OK,
    add_knowledge_argument,
    assessor_for,
    report_problems,
)
from tui.explain_render import render_how, render_why_not

NAME = "test"
HELP = "run the knowledge's case tests (--coverage: what they exercise)"
_INDENT = "    "


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``test``."""
    add_knowledge_argument(
        parser, "knowledge directory whose cases/*.yaml are run (default: the bundled one)"
    )
    parser.add_argument(
        "-k",
        dest="keyword",
        metavar="NAME",
        help="only the cases whose file name or note contains NAME (any case)",
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="report rule, condition and code coverage",
    )
    parser.add_argument(
        "--coverage-report",
        type=Path,
        metavar="FILE",
        help="write the full coverage report to FILE.md or FILE.html (implies --coverage)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when rule coverage is below PCT percent (implies --coverage)",
    )


def _selected(path: Path, note: str, keyword: str | None) -> bool:
    if not keyword:
        return True
    wanted = keyword.lower()
    return wanted in path.stem.lower() or wanted in note.lower()


def run(args: argparse.Namespace) -> int:
    """Run the cases; print results, explanations of failures and coverage."""
    report: Path | None = args.coverage_report
    if report is not None and report.suffix.lower() not in {".md", ".html", ".htm"}:
        sys.stderr.write("needlewise test: --coverage-report takes a .md or .html file name\n")
        return EXIT_BAD_INPUT
    try:
        assessor = assessor_for(args.knowledge)
    except KnowledgeError as exc:
        report_problems(exc)
        return EXIT_BAD_INPUT
    paths = sorted((args.knowledge / "cases").glob("*.yaml"))
    if not paths:
        sys.stderr.write(f"needlewise test: no case tests in {args.knowledge / 'cases'}\n")
        return EXIT_BAD_INPUT
    try:
        runs, failed, unusable = _run_cases(assessor, paths, args.keyword)
    finally:
        assessor.close()
    total = len(runs) + unusable
    if total == 0:
        sys.stderr.write(f"needlewise test: no case matches -k {args.keyword!r}\n")
        return EXIT_BAD_INPUT
    sys.stdout.write(
        f"{total} case(s): {len(runs) - failed} passed, {failed} failed, {unusable} unusable\n",
    )
    below = False
    if args.coverage or report is not None or args.fail_under is not None:
        coverage = measure(assessor.knowledge, runs)
        sys.stdout.write(coverage_summary(coverage))
        if report is not None:
            as_html = report.suffix.lower() in {".html", ".htm"}
            try:
                report.write_text(render_report(coverage, as_html=as_html), encoding="utf-8")
            except OSError as exc:
                sys.stderr.write(f"needlewise test: cannot write {report}: {exc}\n")
                return EXIT_BAD_INPUT
            sys.stdout.write(f"coverage report written to {report}\n")
        if args.fail_under is not None and coverage.rule_percent < args.fail_under:
            below = True
            sys.stdout.write(
                f"FAIL rule coverage {coverage.rule_percent:.1f}% is below "
                f"--fail-under {args.fail_under:g}%\n",
            )
    if unusable:
        return EXIT_BAD_INPUT
    return EXIT_FAILURES if failed or below else EXIT_OK


def _run_cases(
    assessor: Assessor,
    paths: Sequence[Path],
    keyword: str | None,
) -> tuple[list[CaseRun], int, int]:
    runs: list[CaseRun] = []
    failed = unusable = 0
    for path in paths:
        try:
            test = load_case_test(assessor.knowledge, path)
        except CaseError as exc:
            if not _selected(path, "", keyword):
                continue
            unusable += 1
            sys.stdout.write(f"ERROR {path.stem}: unusable case file\n")
            report_problems(exc)
            continue
        if not _selected(path, test.note, keyword):
            continue
        trace = assessor.trace(test.case)
        found = mismatches(test.expect, trace.assessment)
        runs.append(
            CaseRun(name=path.stem, evaluation=trace.evaluation, assessment=trace.assessment)
        )
        if not found:
            sys.stdout.write(f"PASS {path.stem}: {test.note}\n")
            continue
        failed += 1
        sys.stdout.write(f"FAIL {path.stem}: {test.note}\n")
        sys.stdout.write(_failure(assessor, test, trace.assessment, trace.evaluation, found))
    return runs, failed, unusable


def _failure(
    assessor: Assessor,
    test: CaseTest,
    result: Assessment,
    evaluation: Evaluation,
    found: Sequence[Mismatch],
) -> str:
    knowledge = assessor.knowledge
    lines = [
        f"case file: {test.file}",
        f"expected: {describe_expect(test.expect)}",
        f"came out: {describe_result(result)}",
        "differences:",
        *(f"  - {m.message}" for m in found),
    ]
    explained: list[str] = []
    planned = {d.zone for d in result.depth}
    for mismatch in found:
        text = ""
        if mismatch.kind == "finding_missing":
            text = render_why_not(why_not(knowledge, result, evaluation, mismatch.subject))
        elif mismatch.kind in {"finding_unexpected", "finding_level"}:
            text = render_how(how_finding(knowledge, result, mismatch.subject))
        elif mismatch.kind == "decision":
            text = render_how(how_decision(knowledge, result))
        elif mismatch.kind == "depth" and mismatch.subject in planned:
            text = render_how(how_depth(knowledge, result, mismatch.subject))
        if text:
            explained.append(text)
    body = "\n".join(lines) + "\n" + "".join("\n" + t for t in explained)
    return textwrap.indent(body, _INDENT, lambda line: bool(line.strip())) + "\n"


def describe_expect(expect: Expect) -> str:
    """What a case test expects, in one line."""
    parts = []
    if expect.decision is not None:
        parts.append(f"decision {expect.decision}")
    if expect.provisional is not None:
        parts.append(f"provisional {str(expect.provisional).lower()}")
    if expect.findings:
        parts.append(
            "findings " + ", ".join(f"{c} ({lv})" if lv else c for c, lv in expect.findings.items())
        )
    if expect.absent:
        parts.append("absent " + ", ".join(expect.absent))
    if expect.depth:
        parts.append("depth " + ", ".join(f"{z} {v}" for z, v in expect.depth.items()))
    if expect.missing:
        parts.append("asked " + ", ".join(expect.missing))
    if expect.unrecognized:
        parts.append("unrecognized " + ", ".join(expect.unrecognized))
    return "; ".join(parts) or "nothing"


def describe_result(result: Assessment) -> str:
    """What an assessment concluded, in one line."""
    parts = [f"decision {result.decision}", f"provisional {str(result.provisional).lower()}"]
    findings = ", ".join(f"{f.code} ({f.level})" for f in result.findings)
    parts.append(f"findings {findings or 'none'}")
    if result.depth:
        parts.append("depth " + ", ".join(f"{d.zone} {d.verdict}" for d in result.depth))
    if result.missing:
        parts.append("asked " + ", ".join(m.field for m in result.missing))
    if result.unrecognized:
        parts.append("unrecognized " + ", ".join(u.entry for u in result.unrecognized))
    return "; ".join(parts)


def coverage_summary(coverage: Coverage) -> str:
    """The coverage numbers and what is not covered (rules, codes)."""
    rules_hit = sum(r.covered for r in coverage.rules)
    conditions_hit = sum(c.covered for c in coverage.conditions)
    codes_hit = sum(c.covered for c in coverage.codes)
    never = [c.code for c in coverage.codes if not c.raised_in]
    always = [c.code for c in coverage.codes if c.raised_in and not c.not_raised_in]
    lines = [
        f"coverage of {coverage.knowledge} by {len(coverage.cases)} case(s):",
        f"  rules:      {rules_hit}/{len(coverage.rules)} fired ({coverage.rule_percent:.1f}%)",
        (
            f"  conditions: {conditions_hit}/{len(coverage.conditions)} seen true and false "
            f"({coverage.condition_percent:.1f}%)"
        ),
        (
            f"  codes:      {codes_hit}/{len(coverage.codes)} raised and not raised "
            f"({coverage.code_percent:.1f}%)"
        ),
    ]
    idle = [r for r in coverage.rules if not r.covered]
    if idle:
        lines.append(f"rules no case made fire ({len(idle)}):")
        lines.extend(f"  {r.location}: {r.rule_id} ({r.origin})" for r in idle)
    if never:
        lines.append(f"codes no case raised ({len(never)}): {', '.join(never)}")
    if always:
        lines.append(f"codes every case raised ({len(always)}): {', '.join(always)}")
    return "\n".join(lines) + "\n"


_SHOWN = 5
"""Case names shown per table cell; the rest are counted."""


def _cases(names: Sequence[str]) -> str:
    if not names:
        return "-"
    if len(names) <= _SHOWN + 1:
        return ", ".join(names)
    return f"{len(names)}: " + ", ".join(names[:_SHOWN]) + f", ... (+{len(names) - _SHOWN})"


def render_report(coverage: Coverage, *, as_html: bool) -> str:
    """The full coverage report: summary, then every rule, condition and code."""
    tables: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "Summary",
            ["measure", "covered", "total", "percent"],
            [
                [
                    "rules fired",
                    str(sum(r.covered for r in coverage.rules)),
                    str(len(coverage.rules)),
                    f"{coverage.rule_percent:.1f}%",
                ],
                [
                    "conditions seen true and false",
                    str(sum(c.covered for c in coverage.conditions)),
                    str(len(coverage.conditions)),
                    f"{coverage.condition_percent:.1f}%",
                ],
                [
                    "codes raised and not raised",
                    str(sum(c.covered for c in coverage.codes)),
                    str(len(coverage.codes)),
                    f"{coverage.code_percent:.1f}%",
                ],
            ],
        ),
        (
            "Rules",
            ["", "rule", "origin", "location", "fired in"],
            [
                [_mark(r.covered), r.rule_id, r.origin, str(r.location), _cases(r.fired_in)]
                for r in coverage.rules
            ],
        ),
        (
            "Conditions",
            ["", "rule", "pattern", "condition", "location", "true in", "false in"],
            [
                [
                    _mark(c.covered),
                    c.rule_id,
                    c.pattern,
                    c.condition,
                    str(c.location),
                    _cases(c.true_in),
                    _cases(c.false_in),
                ]
                for c in coverage.conditions
            ],
        ),
        (
            "Codes",
            ["", "code", "level", "raised in", "not raised in"],
            [
                [_mark(c.covered), c.code, c.level, _cases(c.raised_in), _cases(c.not_raised_in)]
                for c in coverage.codes
            ],
        ),
    ]
    title = f"Coverage of {coverage.knowledge} by {len(coverage.cases)} case(s)"
    return _html(title, tables) if as_html else _markdown(title, tables)


def _mark(covered: bool) -> str:  # noqa: FBT001 - a table cell from a flag
    return "yes" if covered else "NO"


def _markdown(title: str, tables: list[tuple[str, list[str], list[list[str]]]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [f"# {title}", ""]
    for heading, headers, rows in tables:
        out += [f"## {heading}", "", "| " + " | ".join(headers) + " |"]
        out.append("|" + "---|" * len(headers))
        out.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
        out.append("")
    return "\n".join(out)


def _html(title: str, tables: list[tuple[str, list[str], list[list[str]]]]) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        (
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
            "tr.NO td{background:#fde2e2}</style>"
        ),
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, headers, rows in tables:
        out.append(f"<h2>{html.escape(heading)}</h2><table>")
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>")
        for row in rows:
            css = ' class="NO"' if row and row[0] == "NO" else ""
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
            out.append(f"<tr{css}>{cells}</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
