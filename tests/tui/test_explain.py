"""Why: HOW trees, WHY NOT, WHY ASKED, suggestions applied with one key, clearances, overrides."""

from __future__ import annotations

import datetime as dt

from textual.widgets import Header, Input, OptionList, Static, Tree

from tests.tui.helpers import case, codes, load_case, ready, settle
from tui.app import ExpertApp
from tui.screens.consultation import ConsultationScreen
from tui.screens.explanation import ExplanationScreen
from tui.screens.record import RecordScreen
from tui.screens.suggestions import SuggestionsScreen
from tui.screens.why_asked import WhyAskedScreen
from tui.screens.why_not import WhyNotScreen
from tui.widgets.fields import AnswerInput
from tui.widgets.results import DecisionBanner, FindingsTable

ELIQUIS = {"medications": [{"name": "Eliquis", "status": "current"}]}
ISOTRETINOIN_STOPPED = {
    "medications": [{"name": "isotretinoin", "status": "stopped", "stopped_days_ago": 100}]
}
"""Stopped 100 days before TODAY: a six-month wait ends in 80 days, on 2027-02-16."""


def tree_labels(tree: Tree) -> list[str]:
    out: list[str] = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        out.append(str(node.label))
        stack.extend(node.children)
    return out


async def test_enter_on_a_finding_opens_its_how_tree(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        table = screen.query_one(FindingsTable)
        table.focus()
        table.move_cursor(row=[str(k.value) for k in table.rows].index("PREGNANCY"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)
        explained = app.screen
        assert explained.how is not None
        labels = tree_labels(explained.query_one(Tree))
        assert any("rule " in label for label in labels)
        assert any("client.pregnant" in label for label in labels)
        # a rule's details: rationale and sources with tier and address
        tree = explained.query_one(Tree)
        tree.focus()
        await pilot.press("down")
        await settle(pilot)
        detail = str(explained.query_one("#detail", Static).render())
        assert "Why:" in detail
        assert "source " in detail
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)


async def test_decision_and_depth_explanations(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        screen.query_one(DecisionBanner).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)
        assert app.screen.how is not None
        assert app.screen.how.target == "decision"
        await pilot.press("escape")
        await settle(pilot)
        screen.query_one("#depth").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)
        assert app.screen.how is not None
        assert app.screen.how.target.startswith("depth ")


async def test_why_not_for_any_code(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, WhyNotScreen)
        search = app.screen.query_one("#code-search", Input)
        search.focus()
        await pilot.press(*"PREGNANCY", "enter")
        await settle(pilot)
        text = str(app.screen.query_one("#why-not", Static).render())
        assert "WHY NOT PREGNANCY" in text
        assert "was not raised" in text
        assert "client.pregnant" in text
        codes_list = app.screen.query_one("#codes", OptionList)
        assert codes_list.option_count >= 1


async def test_why_asked_from_the_focused_question(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        screen.query_one("#q-client-hsv_history").focus()
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, WhyAskedScreen)
        text = str(app.screen.query_one("#why-asked", Static).render())
        assert "WHY ASKED client.hsv_history" in text
        assert "HSV_HISTORY_PROPHYLAXIS" in text


async def test_apply_a_depth_suggestion_with_one_key(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        plan = {**case()["plan"], "areas": [{"zone": "cheeks", "depth_mm": 2.4}]}
        await load_case(pilot, screen, case(plan=plan))
        assert screen.assessment is not None
        assert screen.assessment.depth[0].verdict == "exceeds_hard"
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, SuggestionsScreen)
        suggestions = app.screen.suggestions
        assert suggestions
        assert suggestions[0].kind == "depth"
        detail = str(app.screen.query_one("#suggest-detail", Static).render())
        assert "what if" in detail
        assert "depth cheeks: exceeds_hard -> within" in detail
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.assessment.depth[0].verdict == "within"
        assert screen.assessment.depth[0].planned_mm == suggestions[0].changes[0].value
        assert "DEPTH_EXCEEDS_AREA_MAX" not in codes(screen)


async def test_record_a_clearance_for_a_relative_finding(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client=ELIQUIS))
        assert screen.assessment is not None
        assert screen.assessment.decision == "REFER_FOR_CLEARANCE"
        screen.explain(("finding", "ANTICOAG_ANTIPLATELET"))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        await pilot.press(*"Dr A. Smith (GP)", "enter", "enter", *"INR stable", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        finding = screen.assessment.finding("ANTICOAG_ANTIPLATELET")
        assert finding is not None
        assert finding.cleared is not None
        assert finding.cleared.by == "Dr A. Smith (GP)"
        assert screen.assessment.decision != "REFER_FOR_CLEARANCE"
        assert screen.outcome is not None
        assert screen.outcome.built.data["clearances"][0]["note"] == "INR stable"
        records = str(screen.query_one("#records", Static).render())
        assert "cleared by Dr A. Smith (GP)" in records
        # the same key on a cleared finding takes the clearance back
        screen.explain(("finding", "ANTICOAG_ANTIPLATELET"))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.assessment.decision == "REFER_FOR_CLEARANCE"
        assert "clearances" not in screen.outcome.built.data


async def test_record_an_override_with_its_reason(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"fitzpatrick": 5}))
        assert "FST_IV_VI_PIH" in codes(screen)
        screen.explain(("finding", "FST_IV_VI_PIH"))
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        # an override needs its reason
        await pilot.press(*"J. Doe RN", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordScreen)
        await pilot.press(*"test patch 6 weeks ago, no PIH", "enter")
        await settle(pilot)
        finding = screen.assessment.finding("FST_IV_VI_PIH") if screen.assessment else None
        assert finding is not None
        assert finding.overridden is not None
        assert finding.overridden.reason == "test patch 6 weeks ago, no PIH"


async def test_absolute_finding_cannot_be_cleared(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        screen.explain(("finding", "PREGNANCY"))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)


async def choose_wait(pilot, app: ExpertApp) -> str:
    """Highlight the wait suggestion; return its what-if details."""
    assert isinstance(app.screen, SuggestionsScreen)
    kinds = [s.kind for s in app.screen.suggestions]
    app.screen.query_one("#suggestions", OptionList).highlighted = kinds.index("wait")
    await settle(pilot)
    return str(app.screen.query_one("#suggest-detail", Static).render())


async def test_apply_a_wait_suggestion_plans_the_session_for_that_date(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client=ISOTRETINOIN_STOPPED))
        assert "ISOTRETINOIN_WITHIN_6M" in codes(screen)
        assert screen.assessment is not None
        assert screen.assessment.decision == "DEFER"
        await pilot.press("f7")
        await settle(pilot)
        detail = await choose_wait(pilot, app)
        # what applying it does, before it is applied
        assert "plans the session for 2027-02-16 (+80 days)" in detail
        assert "consultation_date: 2026-11-28 -> 2027-02-16" in detail
        assert "stopped_days_ago: 100 -> 180" in detail
        assert "decision: DEFER -> PROCEED" in detail
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        # the session is planned for the date the wait ends, and the window has passed
        assert screen.form.answers().consultation_date == dt.date(2027, 2, 16)
        assert screen.query_one("#q-consultation_date", AnswerInput).value == "2027-02-16"
        assert screen.outcome is not None
        medication = screen.outcome.built.data["client"]["medications"][0]
        assert medication["stopped_days_ago"] == 180
        assert "ISOTRETINOIN_WITHIN_6M" not in codes(screen)
        assert screen.assessment.decision == "PROCEED"
        # and the screen says so
        assert "session 2027-02-16, in 80 days" in screen.sub_title
        header = str(screen.query_one(Header).query_one("HeaderTitle").render())
        assert "2027-02-16" in header


async def test_a_wait_applied_from_an_explanation_reaches_the_consultation(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client=ISOTRETINOIN_STOPPED))
        screen.explain(("finding", "ISOTRETINOIN_WITHIN_6M"))
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await choose_wait(pilot, app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConsultationScreen)
        assert screen.form.answers().consultation_date == dt.date(2027, 2, 16)
        assert "ISOTRETINOIN_WITHIN_6M" not in codes(screen)
