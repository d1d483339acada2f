"""The command palette (ctrl+p): every app action, WHY NOT per code, and jump to any question."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], Any]]
"""(title, help, callback)."""


class NeedlewiseCommands(Provider):
    """The app's commands, in the palette."""

    def _commands(self) -> Iterator[Command]:
        app: Any = self.app
        screen: Any = self.screen
        run = app.run_action
        yield (
            "Consultation",
            "The intake form and the live assessment (F2)",
            partial(run, "mode('consultation')"),
        )
        yield ("Clients", "Client list, history, reopen (F3)", partial(run, "mode('clients')"))
        yield (
            "Knowledge browser",
            "Rules, finding codes and sources (F4)",
            partial(run, "mode('knowledge')"),
        )
        yield ("Help", "Keys and how to use needlewise (F1)", app.action_help)
        yield (
            "Reload knowledge",
            "Reload the knowledge directory now",
            app.action_reload_knowledge,
        )
        if screen.__class__.__name__ != "ConsultationScreen":
            return
        yield ("Save consultation", "Save to the client's record (ctrl+s)", screen.action_save)
        yield (
            "Export reports",
            "Practitioner summary (Markdown, HTML) and client handout",
            screen.action_export,
        )
        yield ("New consultation", "Start an empty consultation (ctrl+n)", screen.action_new)
        yield (
            "Explain the decision",
            "HOW the decision was reached (F5)",
            screen.action_explain_decision,
        )
        yield (
            "Suggestions",
            "Verified plan changes that remove findings (F7)",
            screen.action_suggest,
        )
        yield ("Why not…", "Ask why a code was not raised (F6)", screen.action_why_not)
        knowledge = app.workspace.knowledge
        assessment = screen.assessment
        if assessment is not None:
            for finding in assessment.findings:
                yield (
                    f"Explain finding {finding.code}",
                    finding.title,
                    partial(screen.explain, ("finding", finding.code)),
                )
            for verdict in assessment.depth:
                yield (
                    f"Explain depth {verdict.zone}",
                    f"{verdict.verdict}",
                    partial(screen.explain, ("depth", verdict.zone)),
                )
        if knowledge is not None:
            for code, entry in knowledge.catalogue.items():
                yield (f"Why not {code}", entry.title, partial(screen.action_why_not, code))
        setup = app.workspace.setup
        if setup is not None:
            for section in setup.sections:
                if section.entries:
                    yield (
                        f"Go to {section.title}",
                        section.questions[0].label,
                        partial(screen.focus_entry_list, section.source),
                    )
                    continue
                for question in section.questions:
                    yield (
                        f"Go to: {question.label}",
                        section.title,
                        partial(screen.form.focus_path, question.path),
                    )

    async def discover(self) -> Hits:
        """The main commands, before anything is typed."""
        for i, (title, text, callback) in enumerate(self._commands()):
            if i >= 11:  # noqa: PLR2004 - the app commands; codes and questions need a search
                break
            yield DiscoveryHit(title, callback, help=text)

    async def search(self, query: str) -> Hits:
        """Commands matching the query (fuzzy)."""
        matcher = self.matcher(query)
        for title, text, callback in self._commands():
            score = matcher.match(f"{title} {text}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=text)
