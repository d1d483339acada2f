"""HOW: the tree of rules and facts behind a finding, a depth verdict or the decision.

Each rule shows its rationale, sources (tier, address) and disputed notes; each fact its intake
answers and how they were read. From a finding: WHY NOT, suggestions, clearance, override.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, Tree
from textual.widgets.tree import TreeNode

from engine.assessment import Trace
from engine.explain import (
    ExplainError,
    FactExplanation,
    How,
    HowNode,
    RuleRef,
    how_decision,
    how_depth,
    how_finding,
)
from engine.knowledge import Knowledge
from tui.keymap import KeyFooter, key
from tui.messages import AddRecord, ApplyChanges, ExplanationReady, RemoveRecord
from tui.screens.workspace import Workspace
from tui.widgets.results import LEVELS, finding_state


def rule_details(rule: RuleRef) -> str:
    """A rule's rationale, sources and disputed note, as text."""
    lines = [f"rule {rule.id}", rule.title, "", "Why: " + rule.rationale.strip(), ""]
    for src in rule.sources:
        lines.append(f"source {src.id} [{src.tier}] {src.title}")
        lines.extend(f"   {address}" for address in src.address)
    if rule.disputed:
        lines.extend(["", "⚠ Disputed: " + rule.disputed.strip()])
    lines.extend(["", f"defined at {rule.location}"])
    return "\n".join(lines)


def fact_details(fact: FactExplanation) -> str:
    """A fact's answers and how they were read."""
    lines = [fact.summary, ""]
    lines.extend(f"answer {path} = {value!r}" for path, value in fact.answers)
    lines.extend(f"read as: {origin}" for origin in fact.origin)
    if fact.derived_by:
        lines.append(f"derived by {len(fact.derived_by)} rule firing(s)")
    return "\n".join(lines)


class ExplanationScreen(Screen[object]):
    """HOW tree with rule and source details; finding actions."""

    CSS_PATH = "../styles/explanation.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        key("escape", "back", "Back", "explain.back", "Back to the consultation"),
        key(
            "w",
            "why_not",
            "Why not",
            "explain.why_not",
            "WHY NOT: each rule that could raise a code, and its conditions",
        ),
        key(
            "s",
            "suggest",
            "Suggest",
            "explain.suggest",
            "Verified plan changes that remove this finding",
        ),
        key(
            "c",
            "clearance",
            "Clearance",
            "explain.clearance",
            "Record a prescriber's clearance of this (relative) finding; again to remove it",
        ),
        key(
            "o",
            "override",
            "Override",
            "explain.override",
            "Record your decision to proceed despite this finding, and why; again to remove it",
        ),
        key("e", "expand", "Expand all", "explain.expand", "Expand the whole tree"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        trace: Trace,
        target: tuple[str, str],
        *,
        knowledge: Knowledge | None = None,
        readonly: bool = False,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.trace = trace
        self.target = target
        self.knowledge = knowledge or workspace.knowledge
        """The knowledge that decided (a stored snapshot for a saved consultation)."""
        self.readonly = readonly
        """A saved consultation: nothing to apply, clear or override."""
        self.how: How | None = None

    @property
    def code(self) -> str | None:
        """The finding code explained (None for depth and decision)."""
        return self.target[1] if self.target[0] == "finding" else None

    def compose(self) -> ComposeResult:
        """Summary, tree | details."""
        yield Header()
        yield Static(self._head(), id="explain-summary", markup=False)
        with Horizontal(id="explain-body"):
            tree: Tree[Any] = Tree("…", id="how-tree")
            tree.show_root = True
            yield tree
            with VerticalScroll(id="detail-box"):
                yield Static("Select a rule or fact to see its details.", id="detail", markup=False)
        yield KeyFooter()

    def _head(self) -> str:
        kind, name = self.target
        assessment = self.trace.assessment
        if kind == "finding":
            finding = assessment.finding(name)
            if finding is None:
                return f"{name} is not raised"
            symbol, word, _ = LEVELS.get(finding.level, ("·", finding.level, ""))
            zones = f" in {', '.join(finding.zones)}" if finding.zones else ""
            lines = [
                f"{symbol} {word} · {finding.code}{zones}: {finding.title}",
                f"action: {finding.action} · {finding.advice}",
            ]
            if finding.wait_until:
                lines.append(f"wait until {finding.wait_until}")
            state = finding_state(finding)
            if state:
                lines.append(state)
            if finding.disputed:
                lines.append(f"⚠ disputed: {finding.disputed}")
            return "\n".join(lines)
        if kind == "depth":
            return f"Depth verdict for {name}"
        return f"Decision: {assessment.decision}" + (
            " (provisional)" if assessment.provisional else ""
        )

    def on_mount(self) -> None:
        """Explain in a worker."""
        self.title = "needlewise · explanation"
        self.sub_title = f"HOW {' '.join(self.target).strip()}"
        self._explain()

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain")
    def _explain(self) -> None:
        knowledge = self.knowledge
        if knowledge is None:
            return
        kind, name = self.target
        assessment = self.trace.assessment
        try:
            if kind == "finding":
                how = how_finding(knowledge, assessment, name)
            elif kind == "depth":
                how = how_depth(knowledge, assessment, name)
            else:
                how = how_decision(knowledge, assessment)
        except (ExplainError, KeyError) as exc:
            how = How(target=f"{kind} {name}", summary=f"cannot explain: {exc}", nodes=())
        self.post_message(ExplanationReady(how))

    @on(ExplanationReady)
    def _ready(self, event: ExplanationReady) -> None:
        event.stop()
        self.how = event.how
        tree: Tree[Any] = self.query_one("#how-tree", Tree)
        tree.clear()
        tree.root.set_label(Text(event.how.summary))
        tree.root.data = event.how
        self._add_how(tree.root, event.how)
        tree.root.expand()
        for child in tree.root.children:
            child.expand()
        tree.focus()

    def _add_how(self, parent: TreeNode[Any], how: How) -> None:
        for node in how.nodes:
            self._add_node(parent, node, depth=0)
        for part in how.determined_by:
            branch = parent.add(Text(part.summary), data=part)
            self._add_how(branch, part)

    def _add_node(self, parent: TreeNode[Any], node: HowNode, depth: int) -> None:
        label = f"rule {node.rule.id}: {node.rule.title}"
        if node.rule.disputed:
            label += "  ⚠ disputed"
        branch = parent.add(Text(label), data=node.rule, expand=depth < 1)
        for alias, fact in node.premises:
            leaf = branch.add(Text(f"{alias}: {fact.summary}"), data=fact, expand=depth < 1)
            for path, value in fact.answers:
                if value is not None and not isinstance(value, (list, tuple)):
                    leaf.add_leaf(Text(f"answer {path} = {value}"), data=fact)
            for sub in fact.derived_by:
                self._add_node(leaf, sub, depth + 1)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        data = event.node.data
        detail = self.query_one("#detail", Static)
        if isinstance(data, RuleRef):
            detail.update(rule_details(data))
        elif isinstance(data, FactExplanation):
            detail.update(fact_details(data))
        elif isinstance(data, How):
            detail.update(data.summary)

    # --- actions ----------------------------------------------------------------------
    def action_back(self) -> None:
        """Back to the consultation."""
        self.dismiss(None)

    def action_expand(self) -> None:
        """Expand every node."""
        self.query_one("#how-tree", Tree).root.expand_all()

    def action_why_not(self) -> None:
        """WHY NOT for this code (or pick one)."""
        from tui.screens.why_not import WhyNotScreen  # noqa: PLC0415 - screens import lazily

        self.app.push_screen(
            WhyNotScreen(self.workspace, self.trace, self.code or "", knowledge=self.knowledge)
        )

    def action_suggest(self) -> None:
        """Suggestions for this finding; applying one returns to the consultation."""
        from tui.screens.suggestions import SuggestionsScreen  # noqa: PLC0415

        if self.readonly:
            self.notify(
                "A saved consultation is not changed: reopen it (F3, o) to correct it", markup=False
            )
            return
        codes = (self.code,) if self.code else ()
        self.app.push_screen(
            SuggestionsScreen(self.workspace, self.trace, codes), callback=self._forward
        )

    def _forward(self, result: object) -> None:
        if isinstance(result, (ApplyChanges, AddRecord, RemoveRecord)):
            self.dismiss(result)

    def _record(self, kind: str) -> None:
        if self.readonly:
            self.notify(
                "A saved consultation is not changed: reopen it (F3, o) to correct it", markup=False
            )
            return
        code = self.code
        knowledge = self.knowledge
        finding = self.trace.assessment.finding(code) if code else None
        if finding is None or knowledge is None:
            self.notify(
                "Open a finding to record a clearance or an override",
                severity="warning",
                markup=False,
            )
            return
        recorded = finding.cleared if kind == "clearance" else finding.overridden
        if recorded is not None:  # the same key again takes it back
            self.dismiss(RemoveRecord(kind=kind, code=finding.code))
            return
        policy = knowledge.policy
        allowed = policy.clearable_levels if kind == "clearance" else policy.overridable_levels
        if finding.level not in allowed:
            self.notify(
                f"A {finding.level} finding cannot take a {kind} under this knowledge's policy "
                f"(allowed: {', '.join(allowed) or 'none'})",
                severity="warning",
                timeout=6,
                markup=False,
            )
            return
        from tui.screens.record import RecordScreen  # noqa: PLC0415

        self.app.push_screen(
            RecordScreen(
                kind,
                finding.code,
                by=self.workspace.practitioner or "",
                today=self.workspace.date(),
            ),
            callback=self._forward,
        )

    def action_clearance(self) -> None:
        """Record a clearance (who, when, note)."""
        self._record("clearance")

    def action_override(self) -> None:
        """Record an override (who, reason)."""
        self._record("override")
