"""The knowledge browser: rules, finding codes, sources and problems, with search."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static, TabbedContent, TabPane

from engine.knowledge import Knowledge
from engine.logic import FindingOut, LimitOut, LogicRule, StateOut
from tui.keymap import KeyFooter, key
from tui.screens.workspace import Workspace
from tui.widgets.results import LEVELS

TABS = ("rules", "codes", "sources", "problems")


def rule_output(rule: LogicRule) -> str:
    """What a rule concludes, in a few words."""
    out = rule.output
    if isinstance(out, FindingOut):
        return f"finding {out.code}"
    if isinstance(out, StateOut):
        return f"state {out.name}"
    if isinstance(out, LimitOut):
        if out.do_not_treat:
            return f"do not treat ({out.do_not_treat})"
        if out.no_sourced_limit:
            return "no sourced depth limit"
        return f"depth limit soft {out.soft_mm} / max {out.hard_mm}"
    return out.section.replace("_", " ")


def rule_text(knowledge: Knowledge, rule: LogicRule) -> str:
    """A rule's details with its sources."""
    lines = [
        f"{rule.id} ({rule.origin}) at {rule.location}",
        rule.title,
        f"concludes: {rule_output(rule)}",
        "",
        "Why: " + rule.rationale.strip(),
        "",
    ]
    for sid in rule.sources:
        src = knowledge.sources.get(sid)
        if src is not None:
            address = src.address if isinstance(src.address, str) else ", ".join(src.address)
            lines.append(f"source {sid} [{src.tier}] {src.title} <{address}>")
    if rule.disputed:
        lines.extend(["", "⚠ Disputed: " + rule.disputed.strip()])
    if rule.silenced:
        lines.append("silenced warnings: " + ", ".join(rule.silenced))
    return "\n".join(lines)


class KnowledgeScreen(Screen[None]):
    """Browse the knowledge in use; search filters the open tab."""

    CSS_PATH = "../styles/knowledge.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("ctrl+f", "search", "Search", "knowledge.search", "Search the open tab"),
        key(
            "ctrl+w",
            "why_not",
            "Why not",
            "knowledge.why_not",
            "WHY NOT for the highlighted code or rule in the current consultation",
        ),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.keys: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        """Search, tabs, details."""
        yield Header()
        yield Input(placeholder="search (id, title, text)", id="kb-search", compact=True)
        with TabbedContent(id="kb-tabs"):
            for tab in TABS:
                with TabPane(tab.capitalize(), id=f"tab-{tab}"):
                    table: DataTable[Text] = DataTable(id=f"kb-{tab}", cursor_type="row")
                    yield table
        with VerticalScroll(id="kb-detail-box"):
            yield Static("", id="kb-detail", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns and rows."""
        self.title = "needlewise · knowledge"
        columns = {
            "rules": ("id", "title", "concludes"),
            "codes": ("level", "code", "action", "title"),
            "sources": ("id", "tier", "title"),
            "problems": ("where", "problem"),
        }
        for tab, cols in columns.items():
            self.query_one(f"#kb-{tab}", DataTable).add_columns(*cols)
        self.fill("")
        app = self.app
        signal = getattr(app, "knowledge_signal", None)
        if signal is not None:
            signal.subscribe(self, lambda _: self.fill(self.query_one("#kb-search", Input).value))

    def fill(self, search: str) -> None:
        """(Re)fill every table, keeping rows that match ``search``."""
        knowledge = self.workspace.knowledge
        if knowledge is None:
            return
        k = knowledge
        self.sub_title = f"{k.name} {k.version} ({k.hash[:12]}) · {k.root}"
        needle = search.strip().lower()

        def keep(*texts: str) -> bool:
            return not needle or any(needle in t.lower() for t in texts)

        rows: dict[str, list[tuple[str, tuple[str, ...]]]] = {t: [] for t in TABS}
        for rule in k.rules:
            if keep(rule.id, rule.title, rule.rationale, rule_output(rule)):
                rows["rules"].append((rule.id, (rule.id, rule.title, rule_output(rule))))
        for code, entry in k.catalogue.items():
            if keep(code, entry.title, entry.description, entry.level, entry.action):
                symbol, word, _ = LEVELS.get(entry.level, ("·", entry.level, ""))
                rows["codes"].append((code, (f"{symbol} {word}", code, entry.action, entry.title)))
        for sid, src in k.sources.items():
            if keep(sid, src.title, src.tier, str(src.address)):
                rows["sources"].append((sid, (sid, src.tier, src.title)))
        problems = [*self.workspace.problems, *k.warnings]
        for i, problem in enumerate(problems):
            if keep(problem.message, problem.code, str(problem.location)):
                rows["problems"].append(
                    (
                        str(i),
                        (
                            str(problem.location),
                            f"{problem.severity} {problem.code}: {problem.message}",
                        ),
                    )
                )
        for tab in TABS:
            table = self.query_one(f"#kb-{tab}", DataTable)
            table.clear()
            self.keys[tab] = [k for k, _ in rows[tab]]
            for row_key, cells in rows[tab]:
                table.add_row(*(Text(c) for c in cells), key=row_key)
        pane = self.query_one("#kb-tabs", TabbedContent)
        errors = len(self.workspace.problems)
        label = f"Problems ({errors} errors)" if errors else "Problems"
        pane.get_tab("tab-problems").label = label

    @on(Input.Changed, "#kb-search")
    def _search(self, event: Input.Changed) -> None:
        self.fill(event.value)

    @on(Input.Submitted, "#kb-search")
    def _to_table(self) -> None:
        tab = (self.query_one("#kb-tabs", TabbedContent).active or "tab-rules").removeprefix("tab-")
        self.query_one(f"#kb-{tab}").focus()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        knowledge = self.workspace.knowledge
        key = event.row_key.value
        table_id = event.data_table.id or ""
        active = (self.query_one("#kb-tabs", TabbedContent).active or "").removeprefix("tab-")
        if knowledge is None or key is None or table_id != f"kb-{active}":
            return  # a refill of another tab's table
        detail = self.query_one("#kb-detail", Static)
        if table_id == "kb-rules":
            detail.update(rule_text(knowledge, knowledge.rule_index[key]))
        elif table_id == "kb-codes":
            entry = knowledge.catalogue[key]
            raised_by = [r.id for r in knowledge.rules if rule_output(r).endswith(key)]
            detail.update(
                f"{key} · {entry.level} · action {entry.action}\n{entry.title}\n\n"
                f"{entry.description}\n\nAdvice: {entry.advice}\n\n"
                f"raised by: {', '.join(raised_by) or 'depth verdicts'}"
            )
        elif table_id == "kb-sources":
            src = knowledge.sources[key]
            address = src.address if isinstance(src.address, str) else "\n".join(src.address)
            detail.update(f"{key} [{src.tier}]\n{src.title}\n{address}\n\n{src.note}")
        elif table_id == "kb-problems":
            problems = [*self.workspace.problems, *knowledge.warnings]
            detail.update(problems[int(key)].format())

    def action_search(self) -> None:
        """Focus the search."""
        self.query_one("#kb-search", Input).focus()

    async def action_why_not(self) -> None:
        """WHY NOT of the highlighted code or rule, in the current consultation."""
        tab = (self.query_one("#kb-tabs", TabbedContent).active or "").removeprefix("tab-")
        if tab not in {"rules", "codes"}:
            self.notify("Highlight a rule or a code first", severity="warning", markup=False)
            return
        table = self.query_one(f"#kb-{tab}", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        app = self.app
        await app.run_action("mode('consultation')")
        screen = app.screen
        action = getattr(screen, "action_why_not", None)
        if action is not None and key:
            action(key)
