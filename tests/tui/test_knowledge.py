"""The knowledge: watched and reloaded; a broken reload keeps the last good knowledge; browser."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static, TabbedContent

from tests.tui.helpers import TODAY, codes, ready, settle
from tui.app import ExpertApp, make_app
from tui.screens.knowledge import KnowledgeScreen
from tui.screens.workspace import knowledge_stamp
from tui.widgets.fields import AnswerSelect

BAD_RULE = """
  - id: test.broken_on_purpose
    title: Cites a source that does not exist
    rationale: Written by a test to break the knowledge.
    sources: [NO_SUCH_SOURCE]
    when:
      - client: {pregnant: true}
    then:
      finding: PREGNANCY
"""


def break_knowledge(root: Path) -> Path:
    path = root / "rules" / "contraindications.yaml"
    path.write_text(path.read_text(encoding="utf-8") + BAD_RULE, encoding="utf-8")
    return path


async def test_broken_reload_keeps_the_last_good_knowledge(knowledge_copy: Path, db_path: Path):
    app = make_app(knowledge_copy, db_path, today=TODAY, watch=False)
    notes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        good = app.workspace.knowledge
        assert good is not None
        path = break_knowledge(knowledge_copy)
        app.notify = lambda message, **kw: notes.append(f"{kw.get('title', '')}: {message}")  # type: ignore[method-assign]
        app.check_knowledge()  # what the 1 s poll does
        await settle(pilot)
        problems = app.workspace.problems
        assert problems, "the broken knowledge must report its problems"
        assert any(p.location.file.endswith("contraindications.yaml") for p in problems)
        assert any(p.location.line > 0 for p in problems)
        assert any("error(s)" in n and "NO_SUCH_SOURCE" in n for n in notes), notes
        assert any("contraindications.yaml:" in n for n in notes), "file:line is shown"
        assert app.workspace.knowledge is good  # the last good knowledge stays in use
        # ... and still assesses
        pregnant = screen.query_one("#q-client-pregnant", AnswerSelect)
        pregnant.focus()
        await pilot.press("y")
        await settle(pilot)
        assert "PREGNANCY" in codes(screen)
        # the problems are listed in the knowledge browser
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, KnowledgeScreen)
        table = app.screen.query_one("#kb-problems", DataTable)
        assert any("NO_SUCH_SOURCE" in str(table.get_row_at(i)[1]) for i in range(table.row_count))

        # fixed: reloaded, and the new knowledge is used
        path.write_text(path.read_text(encoding="utf-8").replace(BAD_RULE, ""), encoding="utf-8")
        app.check_knowledge()
        await settle(pilot)
        assert not app.workspace.problems
        assert app.workspace.knowledge is not good
        assert any("reloaded" in n for n in notes)


async def test_a_changed_rule_changes_the_assessment(knowledge_copy: Path, db_path: Path):
    app = make_app(knowledge_copy, db_path, today=TODAY, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        pregnant = screen.query_one("#q-client-pregnant", AnswerSelect)
        pregnant.focus()
        await pilot.press("y")
        await settle(pilot)
        assert "PREGNANCY" in codes(screen)
        path = knowledge_copy / "rules" / "contraindications.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(
            text.replace("- client: {pregnant: true}", "- client: {pregnant: false}", 1),
            encoding="utf-8",
        )
        app.check_knowledge()
        await settle(pilot)
        assert "PREGNANCY" not in codes(screen)


async def test_unloadable_knowledge_at_start_is_explained(knowledge_copy: Path, db_path: Path):
    break_knowledge(knowledge_copy)
    app = make_app(knowledge_copy, db_path, today=TODAY, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            if app.workspace.problems:
                break
            await pilot.pause(0.02)
        await settle(pilot)
        text = str(app.screen.query_one("#loading", Static).render())
        assert "has errors" in text
        assert "NO_SUCH_SOURCE" in text
        assert app.workspace.assessor is None


async def test_browser_search_rules_codes_sources(app: ExpertApp):
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        rules = screen.query_one("#kb-rules", DataTable)
        everything = rules.row_count
        assert everything > 20
        search = screen.query_one("#kb-search", Input)
        search.focus()
        await pilot.press(*"pregnan")
        await settle(pilot)
        assert 0 < rules.row_count < everything
        rules.focus()
        await pilot.press("down", "up")
        await settle(pilot)
        detail = str(screen.query_one("#kb-detail", Static).render())
        assert "Why:" in detail
        tabs = screen.query_one("#kb-tabs", TabbedContent)
        tabs.active = "tab-codes"
        await settle(pilot)
        codes_table = screen.query_one("#kb-codes", DataTable)
        assert codes_table.row_count >= 1
        assert any("PREGNANCY" in str(c) for c in codes_table.get_row_at(0))
        tabs.active = "tab-sources"
        search.value = ""
        await settle(pilot)
        assert screen.query_one("#kb-sources", DataTable).row_count > 5


def test_knowledge_stamp_sees_edits(knowledge_copy: Path):
    before = knowledge_stamp(knowledge_copy)
    assert any(name.endswith("vocabulary.yaml") for name, _, _ in before)
    path = knowledge_copy / "knowledge.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert knowledge_stamp(knowledge_copy) != before
