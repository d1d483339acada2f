"""tui/reports.py: practitioner summary, client handout, and the safe Markdown-to-HTML renderer."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from engine import Assessor, case_from_data, compile_knowledge, load_knowledge
from engine.knowledge import Knowledge
from engine.result import Assessment
from knowledge import DEFAULT_KNOWLEDGE
from tui.reports import DOSE, STRENGTH, client_handout, practitioner_summary, to_html

CASE: dict[str, Any] = {
    "consultation_date": "2026-11-28",
    "client": {
        "age": 58,
        "sex": "M",
        "fitzpatrick": "IV",
        "pregnant": True,  # for a male client: an inconsistency, so the answer is unanswered
        "breastfeeding": False,
        "keloid_history": False,
        "hsv_history": True,
        "active_acne": "none",
        "conditions": [{"name": "atrial fibrillation", "status": "controlled"}],
        "medications": [
            {"name": "Eliquis", "status": "current"},
            {"name": "Zorblax 400 mg", "status": "current"},
        ],
        "allergies": [],
        "sun": {"sunburn_days_ago": None, "tan_days_ago": None},
        "recent_procedures": [],
        "last_microneedling_days_ago": None,
        "pain_tolerance": "normal",
    },
    "plan": {
        "indication": "fine_lines",
        "device": "automated_pen",
        "areas": [
            {"zone": "perioral", "depth_mm": 0.5},
            {"zone": "cheeks", "depth_mm": 1.8},
            {"zone": "neck", "depth_mm": 0.5},
        ],
        "serums": ["device-supplied hydrogel"],
        "anesthetic": "topical lidocaine",
        "sessions": 3,
        "interval_days": 28,
    },
    "clearances": [
        {
            "code": "ANTICOAG_ANTIPLATELET",
            "by": "Dr A. Smith (GP)",
            "date": "2026-11-20",
            "note": "INR stable | reviewed",
        }
    ],
    "overrides": [
        {"code": "FST_IV_VI_PIH", "by": "J. Doe RN", "reason": "test patch 6 weeks ago, no PIH"}
    ],
}
CODE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
CITATION = re.compile(r"\[(?:[A-Z]+\d*|SEED)(?:[,\]])")
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "h4", "p", "ul",
    "li", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "hr", "strong", "em", "code",
}  # fmt: skip
VOID = {"meta", "hr"}


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(DEFAULT_KNOWLEDGE)


@pytest.fixture(scope="module")
def assessment(knowledge: Knowledge) -> Assessment:
    assessor = Assessor(compile_knowledge(knowledge))
    try:
        return assessor.assess(case_from_data(knowledge, CASE))
    finally:
        assessor.close()


@pytest.fixture(scope="module")
def summary(assessment: Assessment, knowledge: Knowledge) -> str:
    return practitioner_summary(
        assessment,
        case_data=CASE,
        client_name="Ann Example",
        practitioner="J. Doe RN",
        knowledge=knowledge,
        saved_at="2026-11-28T10:15:00+00:00",
    )


@pytest.fixture(scope="module")
def handout(assessment: Assessment) -> str:
    return client_handout(assessment, client_name="Ann Example")


# --- practitioner summary -------------------------------------------------------------------
def test_summary_states_decision_knowledge_and_disclaimer(summary: str, assessment: Assessment):
    assert f"Decision: **{assessment.decision}**" in summary
    assert assessment.provisional  # the unrecognised medicine leaves questions open
    assert "(provisional: answers are missing)" in summary
    stamp = assessment.knowledge
    assert f"{stamp.name} {stamp.version} (hash {stamp.hash[:12]})" in summary
    assert "Client: Ann Example" in summary
    assert "Practitioner: J. Doe RN" in summary
    assert summary.rstrip().endswith(assessment.disclaimer.split()[-1])
    assert "not a diagnosis" in summary


def test_summary_lists_every_finding_by_level_with_rules_and_sources(
    summary: str, assessment: Assessment, knowledge: Knowledge
):
    levels = [line for line in summary.splitlines() if line.startswith("### ")]
    order = ["Absolute", "Relative", "Caution", "Information"]
    shown = [next(w for w in order if w in line) for line in levels]
    assert shown == sorted(shown, key=order.index)
    for finding in assessment.findings:
        line = next(x for x in summary.splitlines() if x.startswith(f"- **{finding.code}**"))
        if finding.zones:
            assert f" in {', '.join(finding.zones)}" in line
        block = summary.split(line, 1)[1].split("\n- **", 1)[0]
        assert finding.advice.split(".")[0] in block
        for rule in finding.rules:
            assert f"`{rule}` {knowledge.rule_index[rule].title}" in block
        for source in finding.sources:
            assert f"`{source}` {knowledge.sources[source].title}" in block
        if finding.disputed:
            assert "Disputed:" in block


def test_summary_shows_clearances_and_overrides_with_who_when_why(summary: str):
    assert "ANTICOAG_ANTIPLATELET**: " in summary
    assert "(CLEARED by Dr A. Smith (GP))" in summary
    assert "(OVERRIDDEN by J. Doe RN)" in summary
    rows = [line for line in summary.splitlines() if line.startswith(("| clearance", "| override"))]
    clearance, override = rows
    assert "Dr A. Smith (GP) | 2026-11-20 | INR stable \\| reviewed | applied" in clearance
    assert clearance.count(" | ") == 5  # the escaped pipe stays inside its cell
    assert "J. Doe RN | 2026-11-28T10:15:00+00:00 | test patch 6 weeks ago, no PIH" in override


def test_summary_has_the_depth_table_and_open_questions(summary: str, assessment: Assessment):
    assert "| zone | indication | planned mm | soft flag mm | maximum mm | verdict |" in summary
    for verdict in assessment.depth:
        assert re.search(
            rf"^\| {verdict.zone} \| .* \| {verdict.verdict} \|", summary, re.MULTILINE
        )
    assert "no_sourced_limit" in summary  # neck
    assert f"## Missing answers ({len(assessment.missing)})" in summary
    for missing in assessment.missing:
        assert f"`{missing.field}`" in summary
    assert "## Unrecognised entries (1)" in summary
    assert "'Zorblax [dose omitted]' in `client.medications[1].name`" in summary.replace("\\", "")
    assert "## Inconsistent answers" in summary
    assert assessment.inconsistencies[0].message.split(";")[0] in summary.replace("\\", "")


def test_summary_has_pre_and_aftercare_with_rule_ids(summary: str, assessment: Assessment):
    for item in (*assessment.precare, *assessment.aftercare):
        assert f"[{item.when}] {item.text.split(';')[0]}" in summary
        assert f"(`{item.rule}`)" in summary


def test_summary_without_knowledge_shows_ids(assessment: Assessment):
    text = practitioner_summary(
        assessment, case_data={}, client_name="A", practitioner="B", knowledge=None
    )
    assert "`ANTICOAG_ANTIPLATELET`" not in text
    assert f"`{assessment.findings[0].rule}`" in text
    assert "## Plan" not in text


def test_reports_accept_the_stored_json_as_well(assessment: Assessment, knowledge: Knowledge):
    stored = assessment.to_json()
    kwargs: dict[str, Any] = {
        "case_data": CASE,
        "client_name": "A",
        "practitioner": "B",
        "knowledge": knowledge,
    }
    assert practitioner_summary(stored, **kwargs) == practitioner_summary(assessment, **kwargs)
    assert client_handout(stored, client_name="A") == client_handout(assessment, client_name="A")


# --- client handout -------------------------------------------------------------------------
def test_handout_is_plain_language(handout: str, assessment: Assessment):
    assert "Your practitioner's advice comes first." in handout
    assert "not a diagnosis" in handout
    stamp = assessment.knowledge
    assert f"{stamp.name} {stamp.version} (hash {stamp.hash[:12]})" in handout
    assert not CODE.findall(handout)
    assert not CITATION.findall(handout)
    for word in ("rule", "absolute", "relative", "contraindicat", "disputed", "PIH", "seed"):
        assert word.lower() not in handout.lower(), word
    assert not re.search(r"\bcare\.[a-z]", handout)  # rule ids


def test_handout_sections(handout: str, assessment: Assessment):
    for heading in (
        "## What to expect",
        "## Looking after your skin",
        "## When to contact the clinic",
        "## Before your next session",
    ):
        assert heading in handout
    assert "### Treatment up to 0.5 mm deep (perioral, neck)" in handout
    assert "### Treatment deeper than 1.5 mm (cheeks)" in handout
    for effect in assessment.expected_effects:
        assert effect.text.split(";")[0].split("(")[0] in handout
    contact = handout.split("## When to contact the clinic", 1)[1].split("##", 1)[0]
    assert "Contact the clinic if anything about your skin worries you." in contact
    assert "For: Ann Example" in handout


def test_handout_leaves_out_the_practitioners_own_steps(handout: str, assessment: Assessment):
    own = [c for c in assessment.precare if c.when == "consultation" or "client" in c.text]
    assert own
    for item in own:
        assert item.text not in handout
    shown = [c for c in assessment.precare if c not in own]
    assert shown
    for item in shown:
        assert item.text.split(";")[0] in handout


def test_handout_aftercare_follows_the_clock(handout: str):
    after = handout.split("## Looking after your skin", 1)[1].split("## When", 1)[0]
    headings = re.findall(r"^### (.*)$", after, re.MULTILINE)
    assert headings[0].startswith("0 to 24 hours")
    assert headings[-1].startswith("Weeks 1 to 2")


def test_no_report_prints_a_dose(summary: str, handout: str):
    assert not DOSE.findall(summary)
    assert not DOSE.findall(handout)
    assert not STRENGTH.findall(handout)
    assert "400 mg" not in summary


def test_doses_in_any_input_are_redacted(assessment: Assessment, knowledge: Knowledge):
    data = copy.deepcopy(assessment.to_json())
    data["aftercare"].append(
        {
            "when": "0-24 h",
            "text": "Take 400 mg aciclovir and apply 2.5ml of 4% lidocaine",
            "rule": "x",
        }
    )
    data["findings"][0]["advice"] = "Give 10 units then 0.5 mg/kg."
    handout = client_handout(data, client_name="A")
    summary = practitioner_summary(
        data, case_data=CASE, client_name="A", practitioner="B", knowledge=knowledge
    )
    for text in (handout, summary):
        assert not DOSE.findall(text)
        assert "400 mg" not in text
        assert "10 units" not in text
        assert "[dose omitted] aciclovir" in text.replace("\\", "")
    assert "4%" not in handout


# --- HTML -----------------------------------------------------------------------------------
class _Checker(HTMLParser):
    """Collects tags, checks nesting, and records any attribute that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack.pop() == tag, f"</{tag}> closes the wrong element"


def _check_html(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert checker.tags <= ALLOWED_TAGS, checker.tags - ALLOWED_TAGS
    names = {name for name, _ in checker.attributes}
    assert names <= {"lang", "charset", "http-equiv", "content", "name"}, names
    return checker


@pytest.mark.parametrize("kind", ["summary", "handout"])
def test_reports_render_as_printable_self_contained_html(kind: str, summary: str, handout: str):
    page = to_html(summary if kind == "summary" else handout, "Report")
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    checker = _check_html(page)
    for pattern in ("src=", "href=", "url(", "@import", "<script", "<link", "http:", "https:"):
        assert pattern not in page
    assert {"h1", "h2", "ul", "li"} <= checker.tags
    if kind == "summary":
        assert {"table", "th", "td", "strong", "code"} <= checker.tags
        assert "INR stable | reviewed" in page  # the escaped pipe, unescaped in its cell


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "**<b>bold</b>**",
        "`<code>` and \\<i> and \\*",
        "- item <a href='http://x'>x</a>\n  - nested & more\n- back",
        "| a | b |\n|---|---|\n| <td> | x \\| y |",
        "> quote <iframe>\n\n# heading <svg onload=1>",
        "\ue000 private use and `unclosed code",
    ],
)
def test_html_escapes_everything(text: str):
    page = to_html(text, "<title>")
    _check_html(page)
    assert "<title>&lt;title&gt;</title>" in page
    for bad in ("<script", "<img", "<a ", "<iframe", "<svg", "<b>", "<i>"):
        assert bad not in page


def test_html_renders_the_emitted_subset():
    page = to_html(
        "# T\n\nPara *em* and **strong** with `co*de`.\n\n- a\n  - b\n  - c\n- d\n\n---\n", "t"
    )
    assert "<h1>T</h1>" in page
    assert "<p>Para <em>em</em> and <strong>strong</strong> with <code>co*de</code>.</p>" in page
    assert page.count("<ul>") == page.count("</ul>") == 2
    assert "<hr>" in page
