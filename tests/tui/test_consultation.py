"""The consultation screen: answers in, live assessment out (pilot tests on the real app)."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.tui.helpers import case, codes, load_case, ready, settle
from tui.app import ExpertApp
from tui.screens import consultation
from tui.widgets.choice import Choice
from tui.widgets.entries import EntryList
from tui.widgets.fields import AnswerInput, AnswerSelect, QuestionField
from tui.widgets.results import DecisionBanner, FindingsTable, MissingList


def banner(app: ExpertApp) -> str:
    return str(app.screen.query_one(DecisionBanner).render())


async def test_empty_form_needs_answers(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert screen.assessment is not None
        assert screen.assessment.decision == "NEEDS_ANSWERS"
        assert "NEEDS ANSWERS" in banner(app)
        assert screen.query_one(MissingList).option_count > 0
        # the first question has the focus: typing starts the intake
        assert isinstance(app.focused, (AnswerInput, AnswerSelect))


async def test_pregnant_yes_raises_pregnancy_and_defers(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        pregnant = screen.query_one("#q-client-pregnant", AnswerSelect)
        pregnant.focus()
        await pilot.press("y")
        await settle(pilot)
        assert pregnant.answer is True
        assert "PREGNANCY" in codes(screen)
        assert screen.assessment is not None
        assert screen.assessment.decision == "DEFER"
        assert "DEFER" in banner(app)
        table = screen.query_one(FindingsTable)
        assert "PREGNANCY" in [str(k.value) for k in table.rows]
        # and back to unanswered: unknown is not "no"
        await pilot.press("delete")
        await settle(pilot)
        assert pregnant.answer is not False
        assert "PREGNANCY" not in codes(screen)
        assert "client.pregnant" in [m.field for m in screen.assessment.missing]


async def test_typed_answer_updates_findings(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        assert screen.assessment is not None
        assert screen.assessment.decision == "PROCEED"
        age = screen.query_one("#q-client-age", AnswerInput)
        age.focus()
        await pilot.press("ctrl+a", "ctrl+k", "1", "9")
        await settle(pilot)
        assert age.answer == 19
        # SkinPen-type labelling: an age below the device indication is flagged
        assert screen.assessment.decision in {"PROCEED", "PROCEED_WITH_MODIFICATIONS"}


async def test_implausible_answer_is_shown_inline_and_never_crashes(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        depth = screen.query_one(".entry-row AnswerInput.-number", AnswerInput)
        depth.focus()
        await pilot.press("ctrl+a", "ctrl+k", "9")
        await settle(pilot)
        outcome = screen.outcome
        assert outcome is not None
        assert outcome.problems, "a 9 mm depth must be refused"
        assert "plausible range" in outcome.problems[0].message
        assert "need fixing" in banner(app)
        notes = [str(n.render()) for n in screen.query(".note") if n.display]
        assert any("plausible range" in n for n in notes)
        assert depth.has_class("-problem")
        # the rest of the case is still assessed
        assert screen.assessment is not None


async def test_term_completion_and_recognition(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        form = screen.form
        row = await form.add_row("client.medications")
        await settle(pilot)
        name = row.query_one(f"#q-client-medications-{row.serial}-name", AnswerInput)
        assert app.focused is name
        await pilot.press(*"Eliq")
        await settle(pilot)
        await pilot.press("right")  # accept the completion
        await settle(pilot)
        assert name.value == "Eliquis"
        note = str(row.query_children(".note").first().render())
        assert "apixaban" in note
        await pilot.press("tab", "c")  # status: current
        await settle(pilot)
        assert "ANTICOAG_ANTIPLATELET" in codes(screen)

        other = await form.add_row("client.medications")
        await pilot.press(*"Frobnicol")
        await settle(pilot)
        note = str(other.query_children(".note").first().render())
        assert "not recognised" in note
        assert screen.assessment is not None
        assert [u.entry for u in screen.assessment.unrecognized] == ["Frobnicol"]


async def test_follow_up_question_only_when_relevant(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        row = await screen.form.add_row("client.medications")
        await settle(pilot)
        followup = row.query_one(QuestionField)
        assert followup.control.question.name == "stopped_days_ago"
        assert not followup.display
        status = row.query_one("#q-client-medications-0-status", AnswerSelect)
        status.focus()
        await pilot.press("s")  # "stopped"
        await settle(pilot)
        assert status.answer == "stopped"
        assert followup.display


async def test_list_none_versus_unanswered(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert screen.assessment is not None
        assert "client.medications" in [m.field for m in screen.assessment.missing]
        lst = screen.query_one("#list-client-medications", EntryList)
        lst.status_select.focus()
        await pilot.press("n")  # none
        await settle(pilot)
        assert lst.status_select.value == "none"
        assert screen.outcome is not None
        assert screen.outcome.built.data["client"]["medications"] == []
        assert "client.medications" not in [m.field for m in screen.assessment.missing]


async def test_missing_answer_jumps_to_its_question(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        missing = screen.query_one(MissingList)
        fields = [o.id for o in missing.options]
        index = fields.index("client.breastfeeding")
        missing.focus()
        missing.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is screen.query_one("#q-client-breastfeeding")


async def test_depth_table_shows_verdicts(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        data = case(plan={**case()["plan"], "areas": [{"zone": "cheeks", "depth_mm": 2.4}]})
        await load_case(pilot, screen, data)
        table = screen.query_one("#depth", DataTable)
        assert table.row_count == 1
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[0] == "cheeks"
        assert any("exceeds max" in c for c in cells)


async def test_add_and_remove_rows(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        areas = screen.query_one("#list-plan-areas", EntryList)
        assert len(areas.rows()) == 2
        row = await screen.form.add_row("plan.areas")
        zone = row.query_one(Choice)
        await pilot.press("n")  # the first zone starting with n: nose (or neck)
        await settle(pilot)
        assert zone.chosen
        assert len(screen.assessment.depth) == 3 if screen.assessment else False
        await pilot.click(row.query_one(".remove-row"))
        await settle(pilot)
        assert len(areas.rows()) == 2


async def test_an_engine_failure_is_shown_not_swallowed(app: ExpertApp, monkeypatch):
    def broken(*_args, **_kwargs):
        msg = "simulated defect"
        raise RuntimeError(msg)

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        monkeypatch.setattr(consultation, "assess_answers", broken)
        screen.query_one("#q-client-pregnant", AnswerSelect).focus()
        await pilot.press("y")
        await settle(pilot)
        assert "simulated defect" in banner(app)
        assert "ENGINE ERROR" in banner(app)


async def test_a_misspelt_medication_is_offered_its_term(app: ExpertApp):
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        row = await screen.form.add_row("client.medications")
        await settle(pilot)
        name = row.query_one(f"#q-client-medications-{row.serial}-name", AnswerInput)
        await pilot.press(*"isotretinon")
        await settle(pilot)
        # the offer, with the term it stands for, under the row (the field is too narrow)
        offer = row.query_children(".offer").first()
        assert offer.display
        assert "→ accepts isotretinoin · Isotretinoin (oral)" in str(offer.render())
        assert screen.form.region.contains_region(offer.region)  # scrolled into view
        await pilot.press("right")  # accept it
        await settle(pilot)
        assert name.value == "isotretinoin"
        assert not offer.display
        note = str(row.query_children(".note").first().render())
        assert "isotretinoin" in note
        assert "not recognised" not in note
        await pilot.press("tab", "c")  # status: current
        await settle(pilot)
        assert "ISOTRETINOIN_CURRENT" in codes(screen)


async def test_completion_from_a_word_inside_a_name_and_a_strength(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case())
        row = await screen.form.add_row("client.conditions")
        await settle(pilot)
        name = row.query_one(AnswerInput)
        await pilot.press(*"dermatitis")
        await settle(pilot)
        # "dermatitis" is a name itself; down goes through the names it is a word of
        offered = []
        for _ in range(len(name.completions)):
            await pilot.press("down")
            offered.append(name.offer.text if name.offer else "")
            if offered[-1] == "Atopic dermatitis":
                break
        assert offered[-1] == "Atopic dermatitis", offered
        await pilot.press("right")
        assert name.value == "Atopic dermatitis"

        medication = await screen.form.add_row("client.medications")
        await settle(pilot)
        name = medication.query_one(AnswerInput)
        await pilot.press(*"Eliq 5")
        await settle(pilot)
        assert name.offer is not None
        assert name.offer.text == "Eliquis 5"  # the strength typed is kept
        await pilot.press("right")
        await settle(pilot)
        assert name.value == "Eliquis 5"
        assert "apixaban" in str(medication.query_children(".note").first().render())
