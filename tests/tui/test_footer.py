"""The footer at 80x24: every key that applies where the focus is, visible (issue #6)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.tui.helpers import case, load_case, ready, settle
from tui.app import ExpertApp
from tui.keymap import FooterItem, KeyFooter, flow, footer_rows
from tui.screens.clients import ClientsScreen
from tui.screens.explanation import ExplanationScreen
from tui.screens.help import HelpScreen
from tui.screens.knowledge import KnowledgeScreen
from tui.screens.suggestions import SuggestionsScreen
from tui.screens.why_asked import WhyAskedScreen
from tui.screens.why_not import WhyNotScreen
from tui.widgets.entries import EntryList
from tui.widgets.fields import AnswerInput, AnswerSelect
from tui.widgets.results import DecisionBanner, FindingsTable

SMALL = (80, 24)


def footer_text(app: App[None]) -> str:
    """The footer's rows as rendered on screen."""
    footer = app.screen.query_one(Footer)
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - what the terminal shows
    rows = strips[footer.region.y : footer.region.bottom]
    return "\n".join("".join(segment.text for segment in strip) for strip in rows)


def expected_keys(app: App[None], *, app_wide: bool) -> dict[tuple[int, str], str]:
    """(namespace, action) -> key label of every shown binding that applies where the focus is."""
    out: dict[tuple[int, str], str] = {}
    for active in app.screen.active_bindings.values():
        binding = active.binding
        if not binding.show or binding.system or (active.node is app and not app_wide):
            continue
        out.setdefault((id(active.node), binding.action), app.get_key_display(binding))
    return out


def assert_every_key_visible(app: App[None], *, app_wide: bool = True) -> None:
    """Each shown binding of the focused context (and the app-wide ones) has a key on screen.

    A key counts when its whole label lies inside the footer's visible area and no other key
    covers it (Textual's footer docks the palette key over the last ones and scrolls the rest
    out of sight at 80 columns).
    """
    screen = app.screen
    footer = screen.query_one(Footer)
    area = footer.region.intersection(screen.region)
    keys = [k for k in footer.query(FooterKey) if k.display]
    visible = [k for k in keys if area.contains_region(k.region)]
    for a, b in combinations(visible, 2):
        assert not a.region.overlaps(b.region), f"{a.key_display} covers {b.key_display}"
    shown = {k.action for k in visible}
    expected = expected_keys(app, app_wide=app_wide)
    missing = [label for (_, action), label in expected.items() if action not in shown]
    assert not missing, f"not visible at {screen.size}: {missing}\n{footer_text(app)}"
    text = footer_text(app)
    for label in expected.values():
        assert label in text


async def test_consultation_footer_at_80x24_shows_every_key(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        assert isinstance(screen.query_one(Footer), KeyFooter)

        # a question of the form: the form's keys, then the screen's, then the app's
        screen.query_one("#q-client-age", AnswerInput).focus()
        await settle(pilot)
        assert_every_key_visible(app)
        text = footer_text(app)
        assert "f8 Asked" in text
        assert text.index("f8 Asked") < text.index("^s Save") < text.index("f1")
        assert "^t" not in text  # adding a row applies to a list only

        # a list: its own key comes first
        screen.query_one("#list-client-medications", EntryList).status_select.focus()
        await settle(pilot)
        assert_every_key_visible(app)
        assert footer_text(app).index("^t Add entry") < footer_text(app).index("^s Save")

        # a name being typed with several matches: the key for the next one
        row = await screen.form.add_row("client.medications")
        await settle(pilot)
        await pilot.press(*"warf")
        await settle(pilot)
        name = row.query_one(AnswerInput)
        assert len(name.completions) > 1
        assert_every_key_visible(app)
        assert "↓ Next match" in footer_text(app)

        # the results: no "why asked" (no question is focused there)
        screen.query_one(FindingsTable).focus()
        await settle(pilot)
        assert_every_key_visible(app)
        assert "f8" not in footer_text(app)
        screen.query_one(DecisionBanner).focus()
        await settle(pilot)
        assert_every_key_visible(app)
        assert "⏎ Why?" in footer_text(app)

        # never more than two rows of keys in 24 lines
        assert screen.query_one(Footer).region.height <= 2


async def press(pilot: Pilot[Any], *keys: str) -> None:
    for pressed in keys:
        await pilot.press(pressed)
        await settle(pilot)


async def focus(pilot: Pilot[Any], selector: str) -> None:
    pilot.app.screen.query_one(selector).focus()
    await settle(pilot)


async def test_suggestions_footer_at_80x24(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        await press(pilot, "f7")
        assert isinstance(app.screen, SuggestionsScreen)
        assert_every_key_visible(app)


async def test_explanation_and_why_not_footers_at_80x24(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        await load_case(pilot, screen, case(client={"pregnant": True}))
        screen.explain(("finding", "PREGNANCY"))
        await settle(pilot)
        assert isinstance(app.screen, ExplanationScreen)
        assert isinstance(app.screen.query_one(Footer), KeyFooter)
        assert_every_key_visible(app)  # the tree
        await focus(pilot, "#detail-box")
        assert_every_key_visible(app)

        await press(pilot, "w")  # WHY NOT of the finding, from its explanation
        assert isinstance(app.screen, WhyNotScreen)
        assert isinstance(app.screen.query_one(Footer), KeyFooter)
        for selector in ("#codes", "#code-search", "#why-not-box"):
            await focus(pilot, selector)
            assert_every_key_visible(app)


async def test_why_asked_and_help_footers_at_80x24(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        screen.query_one("#q-client-age", AnswerInput).focus()
        await press(pilot, "f8")
        assert isinstance(app.screen, WhyAskedScreen)
        assert isinstance(app.screen.query_one(Footer), KeyFooter)
        assert_every_key_visible(app)
        await press(pilot, "escape")

        screen.query_one("#q-client-age", AnswerInput).focus()
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        assert isinstance(app.screen.query_one(Footer), KeyFooter)
        assert_every_key_visible(app)


async def test_clients_and_knowledge_footers_at_80x24(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot)
        screens = (
            ("f3", ClientsScreen, ("#client-search", "#client-table", "#history-table")),
            ("f4", KnowledgeScreen, ("#kb-search", "#kb-rules", "#kb-detail-box")),
        )
        for key, kind, selectors in screens:
            await press(pilot, key)
            assert isinstance(app.screen, kind)
            assert isinstance(app.screen.query_one(Footer), KeyFooter)
            for selector in selectors:
                await focus(pilot, selector)
                assert_every_key_visible(app)
        # the footer leaves the screen most of its 24 lines
        assert app.screen.query_one(Footer).region.height <= 2


async def test_the_footer_lays_out_again_when_the_terminal_is_resized(app: ExpertApp):
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot)
        footer = screen.query_one(Footer)
        assert footer.region.height == 2
        await pilot.resize_terminal(200, 30)
        await settle(pilot)
        assert footer.region.height == 1
        assert "f1 Help" in footer_text(app)  # room for the app-wide keys' descriptions
        await pilot.resize_terminal(*SMALL)
        await settle(pilot)
        assert_every_key_visible(app)


def item(display: str, description: str, *, is_global: bool = False) -> FooterItem:
    return FooterItem(
        key=display, display=display, description=description, action=display, is_global=is_global
    )


def test_flow_wraps_without_hiding_a_key():
    items = [item("^s", "Save"), item("^o", "Export"), item("f1", "Help", is_global=True)]
    rows = flow(items, 12, describe_globals=True)
    assert [[i.display for i, _ in row] for row in rows] == [["^s"], ["^o"], ["f1"]]
    # a key wider than the footer still gets its row
    assert len(flow([item("^x", "a very long description")], 10, describe_globals=True)) == 1
    assert flow([], 80, describe_globals=True) == []


def test_app_wide_keys_lose_their_descriptions_before_a_row_is_added():
    items = [
        item("^s", "Save"),
        item("f1", "Help", is_global=True),
        item("f2", "Consult", is_global=True),
    ]
    rows = footer_rows(items, 20)
    assert [[(i.display, described) for i, described in row] for row in rows] == [
        [("^s", True), ("f1", False), ("f2", False)]
    ]
    # with rows to spare they get a row of their own, described
    rows = footer_rows(items, 20, rows=2)
    assert [[(i.display, described) for i, described in row] for row in rows] == [
        [("^s", True)],
        [("f1", True), ("f2", True)],
    ]


def test_widget_bindings_have_ids_tooltips_and_docs():
    keys_doc = (Path(__file__).resolve().parents[2] / "docs" / "tui-keys.md").read_text()
    for owner in (AnswerInput, AnswerSelect, EntryList):
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id
            assert binding.tooltip
            assert f"`{binding.id}`" in keys_doc
