"""Reports of a consultation: a practitioner summary and a client handout (Markdown), and HTML.

No Textual here: the TUI, the CLI and the tests call these functions. Both reports take the
assessment as an ``Assessment`` or as its stored ``assessment/v1`` JSON (a saved consultation),
state the knowledge name/version/hash and that this is decision support, and never print a drug
dose (``DOSE`` is redacted from every line, whatever the knowledge or the case says).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from engine.knowledge import Knowledge
from engine.result import Assessment

DOSE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|μg|g|ml|mL|IU|units?)(?![\w/])")
"""A drug amount (``400 mg``, ``0.5ml``, ``10 units``): never printed in a report."""
STRENGTH = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?%")
"""A concentration (``4%``): also kept out of the client handout."""
DOSE_OMITTED = "[dose omitted]"
LEVELS = ("absolute", "relative", "caution", "info")
LEVEL_LABEL = {
    "absolute": "x Absolute",
    "relative": "! Relative",
    "caution": "* Caution",
    "info": "- Information",
}
"""A symbol and a word per level, never colour alone."""
HANDOUT_PRIORITY = "Your practitioner's advice comes first."
PRACTITIONER_ONLY_WHEN = frozenset({"consultation"})
"""Pre-care timings that are the practitioner's own steps (left out of the handout)."""
_PRACTITIONER_ADDRESSED = re.compile(r"\bclients?\b|\bclient's\b", re.IGNORECASE)
_PROVENANCE_NOTE = re.compile(r"\s*\([^()]*\b(?:seed|sources?|FDA|cited)\b[^()]*\)", re.IGNORECASE)
_CONTACT = re.compile(r"\bcontact (?:the|your) (?:clinic|practitioner)\b", re.IGNORECASE)


AssessmentLike = Assessment | Mapping[str, Any]


def _data(assessment: AssessmentLike) -> dict[str, Any]:
    if isinstance(assessment, Assessment):
        return assessment.to_json(justification=False)
    return dict(assessment)


# --- Markdown text helpers ------------------------------------------------------------------
def redact(text: str, *, strengths: bool = False) -> str:
    """The text with drug amounts (and, for the handout, strengths) replaced."""
    out = DOSE.sub(DOSE_OMITTED, text)
    return STRENGTH.sub(DOSE_OMITTED, out) if strengths else out


def md(value: object, *, strengths: bool = False) -> str:
    """Dynamic text as inert Markdown: one line, doses redacted, markup characters escaped."""
    text = redact(" ".join(str(value).split()), strengths=strengths)
    text = re.sub(r"([\\`*\[\]|])", r"\\\1", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
    text = re.sub(r"(?<!\w)_|_(?!\w)", r"\\_", text)
    return re.sub(r"^([#>+=-])", r"\\\1", text)


def code(value: object) -> str:
    """Dynamic text as a Markdown code span (literal; backticks removed)."""
    return "`" + " ".join(str(value).replace("`", "'").split()) + "`"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return [*lines, ""]


def _mm(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _stamp(data: Mapping[str, Any]) -> str:
    k = data.get("knowledge") or {}
    return f"{k.get('name', '?')} {k.get('version', '?')} (hash {str(k.get('hash', ''))[:12]})"


# --- practitioner summary -------------------------------------------------------------------
def practitioner_summary(
    assessment: AssessmentLike,
    *,
    case_data: Mapping[str, Any],
    client_name: str,
    practitioner: str,
    knowledge: Knowledge | None,
    saved_at: str | None = None,
    note: str = "",
) -> str:
    """The consultation for the practitioner's record, as Markdown.

    ``knowledge`` (the one that decided, e.g. restored from the record's snapshot) gives rule
    and source titles; without it only ids are shown. ``note`` is the practitioner's note saved
    with the consultation (shown under the heading "Note", one paragraph per line).
    """
    data = _data(assessment)
    titles = _Titles(knowledge)
    decision = f"**{md(data.get('decision', '?'))}**"
    if data.get("provisional"):
        decision += " (provisional: answers are missing)"
    lines = [
        f"# Consultation summary: {md(client_name)}",
        "",
        f"- Client: {md(client_name)}",
        f"- Consultation date: {md(data.get('consultation_date', '?'))}",
        f"- Practitioner: {md(practitioner)}",
    ]
    if saved_at:
        lines.append(f"- Saved: {md(saved_at)}")
    lines += [
        f"- Decision: {decision}",
        f"- Decided by: {md(', '.join(data.get('decided_by') or []) or 'no finding')}",
        f"- Knowledge: {md(_stamp(data))}; engine {md(data.get('engine', '?'))}",
        "",
    ]
    lines += _note(note)
    lines += _plan(case_data)
    lines += _findings(data, titles)
    lines += _records(data, case_data, saved_at)
    lines += _depth(data)
    lines += _open_questions(data)
    lines += _care(data)
    lines += _sources(data, titles)
    lines += ["---", "", md(data.get("disclaimer", "Decision support, not a diagnosis.")), ""]
    return "\n".join(lines)


def _note(note: str) -> list[str]:
    paragraphs = [md(line) for line in note.splitlines() if line.strip()]
    if not paragraphs:
        return []
    return ["## Note", "", *(part for text in paragraphs for part in (text, ""))]


class _Titles:
    def __init__(self, knowledge: Knowledge | None) -> None:
        self.knowledge = knowledge

    def rule(self, rule_id: str) -> str:
        rule = self.knowledge.rule_index.get(rule_id) if self.knowledge else None
        return f"{code(rule_id)}" + (f" {md(rule.title)}" if rule else "")

    def source(self, source_id: str) -> str:
        source = self.knowledge.sources.get(source_id) if self.knowledge else None
        if source is None:
            return f"{code(source_id)}"
        return f"{code(source_id)} {md(source.title)} ({md(source.tier)})"


def _plan(case: Mapping[str, Any]) -> list[str]:
    plan = case.get("plan")
    if not isinstance(plan, Mapping):
        return []
    lines = ["## Plan", ""]
    for key, label in (
        ("indication", "Indication"),
        ("device", "Device"),
        ("device_model", "Device model"),
        ("anesthetic", "Anaesthetic"),
        ("serums", "Serums"),
        ("sessions", "Sessions"),
        ("interval_days", "Interval (days)"),
    ):
        if key in plan:
            value = plan[key]
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"- {label}: {md(shown if shown not in (None, '') else 'none')}")
    return [*lines, ""]


def _findings(data: Mapping[str, Any], titles: _Titles) -> list[str]:
    findings = data.get("findings") or []
    lines = [f"## Findings ({len(findings)})", ""]
    if not findings:
        return [*lines, "No findings.", ""]
    for level in LEVELS:
        group = [f for f in findings if f.get("level") == level]
        if not group:
            continue
        lines += [f"### {LEVEL_LABEL[level]} ({len(group)})", ""]
        for f in group:
            zones = f" in {md(', '.join(f['zones']))}" if f.get("zones") else ""
            status = ""
            if f.get("cleared"):
                status = f" (CLEARED by {md(f['cleared'].get('by', '?'))})"
            elif f.get("overridden"):
                status = f" (OVERRIDDEN by {md(f['overridden'].get('by', '?'))})"
            lines.append(f"- **{md(f.get('code'))}**{zones}: {md(f.get('title', ''))}{status}")
            lines.append(f"  - Action: {md(f.get('action', '?'))}. {md(f.get('advice', ''))}")
            if f.get("wait_until"):
                lines.append(f"  - Wait until: {md(f['wait_until'])}")
            rules = f.get("rules") or [f.get("rule", "?")]
            lines.append("  - Rules: " + "; ".join(titles.rule(r) for r in rules))
            lines.append(
                "  - Sources: " + "; ".join(titles.source(s) for s in f.get("sources", []))
            )
            if f.get("disputed"):
                lines.append(f"  - Disputed: {md(f['disputed'])}")
        lines.append("")
    return lines


def _records(data: Mapping[str, Any], case: Mapping[str, Any], saved_at: str | None) -> list[str]:
    """Clearances and overrides: as recorded with the case, and whether they were applied."""
    applied = {f.get("code"): f for f in data.get("findings") or []}
    rows: list[list[str]] = []
    for item in case.get("clearances") or []:
        if isinstance(item, Mapping):
            code = str(item.get("code", "?"))
            used = "applied" if (applied.get(code) or {}).get("cleared") else "not applied"
            when = str(item.get("date") or "-")
            rows.append(["clearance", md(code), md(item.get("by", "?")), md(when),
                         md(item.get("note", "")), used])  # fmt: skip
    for item in case.get("overrides") or []:
        if isinstance(item, Mapping):
            code = str(item.get("code", "?"))
            used = "applied" if (applied.get(code) or {}).get("overridden") else "not applied"
            when = saved_at or str(data.get("consultation_date", "-"))
            rows.append(["override", md(code), md(item.get("by", "?")), md(when),
                         md(item.get("reason", "")), used])  # fmt: skip
    if not rows:
        return []
    header = ["record", "finding", "by", "when", "note / reason", "status"]
    return ["## Clearances and overrides", "", *_table(header, rows)]


def _depth(data: Mapping[str, Any]) -> list[str]:
    depth = data.get("depth") or []
    if not depth:
        return []
    rows = []
    for d in depth:
        rec = d.get("recommended_mm")
        rows.append(
            [
                md(d.get("zone")),
                md(d.get("indication") or "-"),
                _mm(d.get("planned_mm")),
                _mm(d.get("soft_flag_mm")),
                _mm(d.get("hard_max_mm")),
                md(d.get("verdict")),
                f"{_mm(rec[0])}-{_mm(rec[1])}" if rec else "-",
                md(", ".join(d.get("binding") or []) or "-"),
            ]
        )
    header = ["zone", "indication", "planned mm", "soft flag mm", "maximum mm", "verdict",
              "recommended mm", "binding rules"]  # fmt: skip
    return ["## Depth", "", *_table(header, rows)]


def _open_questions(data: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    missing = data.get("missing") or []
    if missing:
        lines += [f"## Missing answers ({len(missing)})", ""]
        for m in missing:
            raises = ", ".join(m.get("could_raise") or [])
            lines.append(
                f"- {md(m.get('question', ''))} ({code(m.get('field'))}; could raise "
                f"{md(m.get('level', ''))}: {md(raises)})"
            )
        lines.append("")
    unrecognized = data.get("unrecognized") or []
    if unrecognized:
        lines += [f"## Unrecognised entries ({len(unrecognized)})", ""]
        lines += [f"- '{md(u.get('entry'))}' in {code(u.get('field'))}" for u in unrecognized]
        lines.append("")
    inconsistent = data.get("inconsistencies") or []
    if inconsistent:
        lines += [f"## Inconsistent answers ({len(inconsistent)})", ""]
        lines += [
            f"- {md(i.get('message', ''))} ({code(', '.join(i.get('fields') or []))})"
            for i in inconsistent
        ]
        lines.append("")
    return lines


def _care(data: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, title in (("precare", "Pre-care"), ("aftercare", "Aftercare")):
        items = data.get(key) or []
        if items:
            lines += [f"## {title}", ""]
            for c in items:
                lines.append(f"- [{md(c.get('when'))}] {md(c.get('text'))} ({code(c.get('rule'))})")
            lines.append("")
    effects = data.get("expected_effects") or []
    if effects:
        lines += ["## Expected effects", ""]
        lines += [f"- [{md(e.get('band'))}] {md(e.get('text'))}" for e in effects]
        lines.append("")
    return lines


def _sources(data: Mapping[str, Any], titles: _Titles) -> list[str]:
    cited: dict[str, None] = {}
    for key in ("findings", "precare", "aftercare", "expected_effects"):
        for item in data.get(key) or []:
            cited.update(dict.fromkeys(item.get("sources") or []))
    if not cited:
        return []
    return ["## Sources cited", "", *[f"- {titles.source(s)}" for s in cited], ""]


# --- client handout -------------------------------------------------------------------------
def client_handout(assessment: AssessmentLike, *, client_name: str) -> str:
    """Plain-language aftercare for the client, as Markdown: no codes, no jargon, no doses."""
    data = _data(assessment)

    def say(text: object) -> str:
        return md(_PROVENANCE_NOTE.sub("", str(text)), strengths=True)

    depth = data.get("depth") or []
    areas = ", ".join(_plain(d.get("zone")) for d in depth if d.get("verdict") != "do_not_treat")
    lines = [
        "# Your microneedling treatment: what to expect and aftercare",
        "",
        f"- For: {md(client_name)}",
        f"- Treatment date: {md(data.get('consultation_date', ''))}",
    ]
    if areas:
        lines.append(f"- Areas planned: {md(areas)}")
    lines += ["", f"> This sheet supports your practitioner's care. {HANDOUT_PRIORITY}", ""]
    effects = data.get("expected_effects") or []
    if effects:
        lines += ["## What to expect", ""]
        for band, items in _grouped(effects, "band", _band_order):
            lines += [f"### {md(_band(band, depth))}", ""]
            lines += [f"- {say(e.get('text'))}" for e in items]
            lines.append("")
    aftercare = data.get("aftercare") or []
    contact = [c for c in aftercare if _CONTACT.search(str(c.get("text", "")))]
    routine = [c for c in aftercare if c not in contact]
    if routine:
        lines += ["## Looking after your skin", ""]
        for when, items in _grouped(routine, "when", _after_order):
            lines += [f"### {md(_when(when))}", ""]
            lines += [f"- {say(c.get('text'))}" for c in items]
            lines.append("")
    lines += ["## When to contact the clinic", ""]
    lines += [f"- {say(c.get('text'))}" for c in contact]
    lines += ["- Contact the clinic if anything about your skin worries you.", ""]
    precare = [
        c
        for c in data.get("precare") or []
        if str(c.get("when", "")).strip().lower() not in PRACTITIONER_ONLY_WHEN
        and not _PRACTITIONER_ADDRESSED.search(str(c.get("text", "")))
    ]
    if precare:
        lines += ["## Before your next session", ""]
        for when, items in _grouped(precare, "when", _before_order):
            lines += [f"### {md(_when(when))}", ""]
            lines += [f"- {say(c.get('text'))}" for c in items]
            lines.append("")
    lines += [
        "---",
        "",
        (
            "This information comes from decision-support software used by your practitioner; "
            f"it is not a diagnosis. {HANDOUT_PRIORITY}"
        ),
        "",
        f"Prepared with knowledge {md(_stamp(data))}.",
        "",
    ]
    return "\n".join(lines)


def _plain(zone: object) -> str:
    return str(zone or "").replace("_", " ")


def _grouped(
    items: Sequence[Mapping[str, Any]], key: str, order: Callable[[str], float]
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        groups.setdefault(str(item.get(key, "")), []).append(item)
    return sorted(groups.items(), key=lambda pair: order(pair[0]))  # stable: ties keep order


_HOURS = {"h": 1, "hour": 1, "hours": 1, "day": 24, "days": 24, "week": 168, "weeks": 168}
_SPAN = re.compile(r"(?:(?P<unit1>hours?|days?|weeks?)\s+)?(?P<a>\d+)(?:\s*-\s*(?P<b>\d+))?"
                   r"\s*(?P<unit2>h|hours?|days?|weeks?)?", re.IGNORECASE)  # fmt: skip
_RANGE = re.compile(
    r"^\s*(?P<op><=|<|>=|>)?\s*(?P<a>\d+(?:\.\d+)?)(?:\s*-\s*(?P<b>\d+(?:\.\d+)?))?"
)


def _hours(when: str) -> float | None:
    match = _SPAN.search(when)
    if match is None:
        return None
    unit = (match["unit1"] or match["unit2"] or "").lower()
    if unit not in _HOURS:
        return None
    return float(match["b"] or match["a"]) * _HOURS[unit]


def _after_order(when: str) -> float:
    hours = _hours(when)
    return float("inf") if hours is None else hours


def _before_order(when: str) -> float:
    if "before" not in when.lower():
        return 0.0  # e.g. "day of treatment": last
    hours = _hours(when)
    return -1.0 if hours is None else -hours  # the longest lead time first


def _band_order(band: str) -> float:
    match = _RANGE.match(band)
    if match is None:
        return float("inf")
    return float(match["a"]) + (0.001 if match["op"] in {">", ">="} else 0.0)


def _when(when: str) -> str:
    text = re.sub(r"(\d)\s*-\s*(\d)", r"\1 to \2", when.strip())
    text = re.sub(r"(\d)\s*h\b", r"\1 hours", text)
    return text[:1].upper() + text[1:] if text else "Any time"


def _band(band: str, depth: Sequence[Mapping[str, Any]]) -> str:
    match = _RANGE.match(band)
    if match is None:
        return band[:1].upper() + band[1:]
    a = float(match["a"])
    b = float(match["b"]) if match["b"] else None
    op = match["op"]
    if op in {"<=", "<"}:
        label, low, high = f"Treatment up to {a:g} mm deep", 0.0, a
    elif op in {">", ">="}:
        label, low, high = f"Treatment deeper than {a:g} mm", a, float("inf")
    elif b is not None:
        label, low, high = f"Treatment {a:g} to {b:g} mm deep", a, b
    else:
        return band
    zones = [
        _plain(d.get("zone"))
        for d in depth
        if isinstance(d.get("planned_mm"), (int, float))
        and (low < d["planned_mm"] <= high or (op in {"<=", "<"} and d["planned_mm"] <= high))
    ]
    return f"{label} ({', '.join(zones)})" if zones else label


# --- HTML -----------------------------------------------------------------------------------
CSS = """
:root { color-scheme: light; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111;
       max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; border-bottom: 2px solid #333; padding-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 1.6rem; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.05rem; margin-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92em; }
th, td { border: 1px solid #999; padding: .2rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
blockquote { border-left: 4px solid #555; margin: 1rem 0; padding: .3rem .8rem;
             background: #f4f4f4; }
hr { border: 0; border-top: 1px solid #999; margin: 1.5rem 0; }
@page { margin: 15mm; }
@media print {
  body { font-size: 10pt; max-width: none; margin: 0; padding: 0; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  table, tr, li, blockquote { break-inside: avoid; page-break-inside: avoid; }
  th { background: none; }
}
"""

_PRIVATE = re.compile("[\ue000-\uf8ff]")
_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
_ITEM = re.compile(r"^( *)- (.*)$")


def to_html(markdown_text: str, title: str) -> str:
    """A standalone, printable HTML page from the Markdown these reports emit.

    Supports headings, paragraphs, nested ``-`` lists, pipe tables, ``>`` quotes, ``---``,
    ``**bold**``, ``*emphasis*``, `` `code` `` and backslash escapes. All text is escaped; the
    page loads nothing (no scripts, fonts, images or links to fetch; a CSP forbids them).
    """
    body = _Blocks(_PRIVATE.sub("\ufffd", markdown_text).splitlines()).render()
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}</main>\n</body>\n</html>\n"
    )


def _inline(text: str) -> str:
    saved: list[str] = []

    def keep(fragment: str) -> str:
        saved.append(fragment)
        return chr(0xE000 + len(saved) - 1)

    def token(match: re.Match[str]) -> str:
        if match[1] is not None:  # a backslash escape: the character itself
            return keep(html.escape(match[1]))
        return keep(f"<code>{html.escape(match[2])}</code>")  # a code span: literal content

    # One left-to-right scan, so an escaped backtick never opens a code span.
    text = re.sub(r"\\(.)|`([^`]*)`", token, text)
    text = html.escape(text, quote=True)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)
    return re.sub("[\ue000-\uf8ff]", lambda m: saved[ord(m[0]) - 0xE000], text)


def _cells(line: str) -> list[str]:
    cells, current, i = [], "", 0
    body = line.strip().removeprefix("|")
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if char == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += char
        i += 1
    if current.strip():
        cells.append(current.strip())
    return cells


class _Blocks:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0
        self.out: list[str] = []

    def render(self) -> str:
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                self.i += 1
            elif heading := _HEADING.match(line):
                level = len(heading[1])
                self.out.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
                self.i += 1
            elif line.strip() == "---":
                self.out.append("<hr>")
                self.i += 1
            elif line.startswith(">"):
                self.quote()
            elif line.startswith("|") and self._separator(self.i + 1):
                self.table()
            elif _ITEM.match(line):
                self.items()
            else:
                self.paragraph()
        return "\n".join(self.out) + "\n"

    def _separator(self, index: int) -> bool:
        return index < len(self.lines) and bool(
            re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", self.lines[index].strip())
        )

    def quote(self) -> None:
        parts = []
        while self.i < len(self.lines) and self.lines[self.i].startswith(">"):
            parts.append(self.lines[self.i][1:].strip())
            self.i += 1
        self.out.append(f"<blockquote><p>{_inline(' '.join(parts))}</p></blockquote>")

    def table(self) -> None:
        header = _cells(self.lines[self.i])
        self.i += 2
        rows = []
        while self.i < len(self.lines) and self.lines[self.i].startswith("|"):
            rows.append(_cells(self.lines[self.i]))
            self.i += 1
        head = "".join(f"<th>{_inline(c)}</th>" for c in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>\n" for row in rows
        )
        self.out.append(
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"
        )

    def items(self) -> None:
        depth = -1
        while self.i < len(self.lines) and (item := _ITEM.match(self.lines[self.i])):
            level = len(item[1]) // 2
            if level > depth:
                for _ in range(level - depth):
                    self.out.append("<ul>")
                depth = level
            else:
                self.out.append("</li>")
                while depth > level:
                    self.out.append("</ul></li>")
                    depth -= 1
            self.out.append(f"<li>{_inline(item[2])}")
            self.i += 1
        self.out.append("</li>")
        while depth > 0:
            self.out.append("</ul></li>")
            depth -= 1
        self.out.append("</ul>")

    def paragraph(self) -> None:
        parts = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if (
                not line.strip()
                or _HEADING.match(line)
                or _ITEM.match(line)
                or line.startswith(("|", ">"))
                or line.strip() == "---"
            ):
                break
            parts.append(line.strip())
            self.i += 1
        self.out.append(f"<p>{_inline(' '.join(parts))}</p>")


def report_date(saved_at: str | None) -> str:
    """The calendar day of an ISO timestamp (for report titles)."""
    if not saved_at:
        return dt.datetime.now(dt.UTC).date().isoformat()
    return saved_at[:10]
