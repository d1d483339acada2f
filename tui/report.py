"""Plain-text rendering of an assessment for the terminal (no Textual, no rich)."""

from __future__ import annotations

from collections.abc import Callable

from engine.result import Assessment, DepthVerdict, Finding

LEVEL_MARK = {
    "absolute": ("x", "ABSOLUTE", "31;1"),
    "relative": ("!", "RELATIVE", "33;1"),
    "caution": ("*", "CAUTION", "36"),
    "info": ("-", "INFO", "2"),
}
"""Level -> (symbol, label, ANSI colour): a symbol and a word, never colour alone."""

DECISION_COLOUR = {
    "PROCEED": "32;1",
    "PROCEED_WITH_MODIFICATIONS": "32",
    "NEEDS_ANSWERS": "35;1",
    "DECLINE_AREA": "33;1",
    "REFER_FOR_CLEARANCE": "33;1",
    "DEFER": "31;1",
    "DECLINE": "31;1",
}

Paint = Callable[[str, str], str]


def _plain(text: str, _colour: str) -> str:
    return text


def _ansi(text: str, colour: str) -> str:
    return f"\x1b[{colour}m{text}\x1b[0m"


def render_text(assessment: Assessment, *, colour: bool = False) -> str:  # noqa: C901
    """The assessment as a readable report: decision first."""
    paint: Paint = _ansi if colour else _plain
    lines: list[str] = []
    banner = f"DECISION: {assessment.decision}"
    if assessment.provisional:
        banner += "  (provisional: answers missing)"
    lines.append(paint(banner, DECISION_COLOUR.get(assessment.decision, "1")))
    if assessment.decided_by:
        lines.append(f"  decided by: {', '.join(assessment.decided_by)}")
    lines.append(f"  consultation date: {assessment.consultation_date.isoformat()}")
    lines.append("")
    for level in ("absolute", "relative", "caution", "info"):
        group = [f for f in assessment.findings if f.level == level]
        if not group:
            continue
        mark, label, col = LEVEL_MARK[level]
        lines.append(paint(f"{label} ({len(group)})", col))
        for finding in group:
            lines.extend(_finding(finding, mark, paint, col))
        lines.append("")
    if not assessment.findings:
        lines.extend(["No findings.", ""])
    if assessment.depth:
        lines.append(paint("DEPTH", "1"))
        lines.append(
            f"  {'zone':<16}{'planned':>8}{'soft':>7}{'hard':>7}  {'verdict':<17}recommended"
        )
        lines.extend(_depth(d) for d in assessment.depth)
        lines.append("")
    if assessment.missing:
        lines.append(paint(f"NEEDS ANSWER ({len(assessment.missing)})", "35;1"))
        for m in assessment.missing:
            lines.append(f"  ? {m.question}  [{m.field}]")
            lines.append(f"      could raise ({m.level}): {', '.join(m.could_raise)}")
        lines.append("")
    if assessment.unrecognized:
        lines.append(paint("NOT RECOGNISED", "35"))
        lines.extend(f"  ? '{u.entry}' in {u.field}" for u in assessment.unrecognized)
        lines.append("")
    if assessment.inconsistencies:
        lines.append(paint("INCONSISTENT ANSWERS", "35"))
        lines.extend(f"  ~ {i.message} [{', '.join(i.fields)}]" for i in assessment.inconsistencies)
        lines.append("")
    for title, items in (("PRE-CARE", assessment.precare), ("AFTERCARE", assessment.aftercare)):
        if items:
            lines.append(paint(title, "1"))
            lines.extend(f"  [{c.when}] {c.text}" for c in items)
            lines.append("")
    if assessment.expected_effects:
        lines.append(paint("EXPECTED EFFECTS", "1"))
        lines.extend(f"  [{e.band}] {e.text}" for e in assessment.expected_effects)
        lines.append("")
    stamp = assessment.knowledge
    lines.append(
        paint(
            f"knowledge {stamp.name} {stamp.version} ({stamp.hash[:12]}); {assessment.engine}", "2"
        )
    )
    lines.append(paint(assessment.disclaimer, "2"))
    return "\n".join(lines) + "\n"


def _finding(finding: Finding, mark: str, paint: Paint, col: str) -> list[str]:
    where = f" [{', '.join(finding.zones)}]" if finding.zones else ""
    status = ""
    if finding.cleared is not None:
        status = f"  CLEARED by {finding.cleared.by}"
    elif finding.overridden is not None:
        status = f"  OVERRIDDEN by {finding.overridden.by}: {finding.overridden.reason}"
    out = [paint(f"  {mark} {finding.code}{where}: {finding.title}{status}", col)]
    out.append(f"      action: {finding.action}; {finding.advice}")
    if finding.wait_until:
        out.append(f"      wait until: {finding.wait_until}")
    out.append(f"      rule: {', '.join(finding.rules)}; sources: {', '.join(finding.sources)}")
    if finding.disputed:
        out.append(f"      disputed: {finding.disputed}")
    return out


def _mm(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _depth(d: DepthVerdict) -> str:
    rec = f"{d.recommended_mm[0]:g}-{d.recommended_mm[1]:g} mm" if d.recommended_mm else "-"
    return (
        f"  {d.zone:<16}{_mm(d.planned_mm):>8}{_mm(d.soft_flag_mm):>7}{_mm(d.hard_max_mm):>7}"
        f"  {d.verdict:<17}{rec}"
    )
