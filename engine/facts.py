"""Case answers to facts: one flat fact per answer group, entry and planned zone, provenanced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.case import Case, resolve_site
from engine.knowledge import Knowledge
from engine.memo import ObjectMemo
from engine.model import FactSpec, FieldSpec, TermKind
from engine.vocabulary import fold_text


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """A fact as the engine sees it, plus where each field came from."""

    fid: str
    """Our own stable id (``medication[0]``, ``area:cheeks``, ``finding:PREGNANCY``)."""
    kind: str
    fields: Mapping[str, Any]
    """Only answered fields are present: a missing field is an unknown answer."""
    paths: Mapping[str, str] = field(default_factory=dict)
    """Field -> the case path that answers it (also for missing fields)."""
    entry_path: str = ""
    """Case path of the answer group or entry (``client.medications[0]``)."""
    origin: tuple[str, ...] = ()
    """How the answer was read: terminology mappings, defaults, site resolution."""
    phantom: bool = False
    """Stands for entries of an unanswered list: every field unknown (evaluator only)."""

    def engine_dict(self) -> dict[str, Any]:
        """The dict asserted into the rule engine."""
        return {"fid": self.fid, "kind": self.kind, **self.fields}


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrecognized:
    """An entry the terminology does not know (shown to the practitioner, never dropped)."""

    field: str
    entry: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FactSet:
    """Everything the case says, as facts."""

    facts: tuple[Fact, ...]
    """Facts asserted into the engine."""
    phantoms: tuple[Fact, ...]
    """Placeholders for unanswered lists (three-valued evaluation only)."""
    unrecognized: tuple[Unrecognized, ...]
    planned_zones: tuple[str, ...]

    def by_id(self) -> dict[str, Fact]:
        """Fid -> fact, phantoms included."""
        return {f.fid: f for f in (*self.facts, *self.phantoms)}


_SPECS = ObjectMemo()
"""What each fact spec's entries share, kept between cases."""


def _field_paths(spec: FactSpec, path: str) -> dict[str, str]:
    """Field -> case path (``client.medications[0].name``) of one entry."""
    return _SPECS.get(spec, path, lambda: {name: f"{path}.{name}" for name in spec.fields})


def _resolvable(spec: FactSpec) -> tuple[tuple[str, FieldSpec], ...]:
    """The fields whose answers are resolved: terms, sites (but the entry's site) and texts."""
    return _SPECS.get(
        spec,
        "#resolvable",
        lambda: tuple(
            (name, fspec)
            for name, fspec in spec.fields.items()
            if fspec.type in {"term", "text"} or (fspec.type == "site" and name != spec.site_field)
        ),
    )


class _Builder:
    def __init__(self, knowledge: Knowledge, case: Case, unanswer: frozenset[str]) -> None:
        self.k = knowledge
        self.case = case
        self.unanswer = unanswer
        self.facts: list[Fact] = []
        self.phantoms: list[Fact] = []
        self.unrecognized: list[Unrecognized] = []
        self.planned = self._planned_zones()

    def _planned_zones(self) -> tuple[str, ...]:
        areas = self.case.answers.get("plan", {}) or {}
        return tuple(a["zone"] for a in areas.get("areas", []) or [] if "zone" in a)

    def get(self, dotted: str) -> tuple[bool, Any]:
        node: Any = self.case.answers
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
        return True, node

    def build(self) -> FactSet:
        for kind, spec in self.k.vocabulary.specs.items():
            present, value = self.get(spec.source)
            if spec.entries:
                if not present:
                    self.phantom(kind, spec, spec.source)
                    continue
                for i, entry in enumerate(value or []):
                    self.entry(kind, spec, entry, f"{spec.source}[{i}]", i)
            elif spec.scalar_field is not None:
                if not present:
                    self.phantom(kind, spec, spec.source)
                elif value is not None:
                    self.entry(kind, spec, {spec.scalar_field: value}, spec.source, None)
            else:
                group = value if isinstance(value, dict) else {}
                answered_none = present and value is None
                self.entry(kind, spec, group, spec.source, None, answered_none=answered_none)
        return FactSet(
            facts=tuple(self.facts),
            phantoms=tuple(self.phantoms),
            unrecognized=tuple(self.unrecognized),
            planned_zones=self.planned,
        )

    def phantom(self, kind: str, spec: FactSpec, path: str) -> None:
        paths = dict.fromkeys(self.k.vocabulary.fields_of(kind) or {}, path)
        self.phantoms.append(
            Fact(
                fid=f"{kind}[?]", kind=kind, fields={}, paths=paths, entry_path=path, phantom=True
            ),
        )
        del spec

    def answers(
        self,
        spec: FactSpec,
        answers: Mapping[str, Any],
        path: str,
        *,
        answered_none: bool,
    ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        """Fields as answered (defaults applied; unanswered ones absent), their paths, notes."""
        fields: dict[str, Any] = {}
        paths = dict(_field_paths(spec, path))
        origin: list[str] = []
        unanswer = self.unanswer
        for name, fspec in spec.fields.items():
            if unanswer and f"{spec.source}.{name}" in unanswer:
                continue
            if name in answers:
                fields[name] = answers[name]
            elif answered_none:
                fields[name] = fspec.null_means
            elif fspec.has_default:
                fields[name] = fspec.default
                origin.append(f"{name}: not given, taken as {fspec.default!r}")
            elif fspec.default_from is not None:
                found, value = self.get(fspec.default_from)
                if found:
                    fields[name] = value
                    origin.append(f"{name}: from {fspec.default_from}")
                if not found:
                    paths[name] = fspec.default_from
            elif fspec.optional:
                fields[name] = None
        return fields, paths, origin

    def entry(
        self,
        kind: str,
        spec: FactSpec,
        answers: Mapping[str, Any],
        path: str,
        index: int | None,
        *,
        answered_none: bool = False,
    ) -> None:
        fields, paths, origin = self.answers(spec, answers, path, answered_none=answered_none)
        if index is not None:
            fields["entry"] = index
        self.resolve(spec, fields, paths, origin, path)
        fid = f"{kind}[{index}]" if index is not None else kind
        if spec.key_field is not None:
            fid = f"{kind}:{fields.get(spec.key_field)}"

        def add(fid: str, fields: dict[str, Any], notes: tuple[str, ...]) -> None:
            self.facts.append(
                Fact(fid=fid, kind=kind, fields=fields, paths=paths, entry_path=path, origin=notes),
            )

        if spec.site_field is None:
            add(fid, fields, tuple(origin))
            return
        site_path = paths[spec.site_field]
        paths["zone"] = site_path
        paths["relation"] = site_path
        site_text = fields.get(spec.site_field)
        if spec.site_field == "zone":
            # The site doubles as the zone field: only a planned zone it touches may stay there.
            fields.pop("zone", None)
        if site_text is None and spec.site_default is not None and spec.site_field not in answers:
            site_text = spec.site_default
            origin.append(f"{spec.site_field}: not given, taken as '{site_text}'")
        if site_text is None:
            # The site is unanswered: zone and relation stay unknown.
            add(fid, fields, tuple(origin))
            return
        site = resolve_site(self.k, str(site_text))
        if site is None:
            self.unrecognized.append(Unrecognized(field=site_path, entry=str(site_text)))
            add(fid, fields, (*origin, f"site '{site_text}' not recognised"))
            return
        if spec.site_field != "zone":
            fields[spec.site_field] = site
        if site != site_text:
            origin.append(f"site '{site_text}' -> {site}")
        for zone, relation in self.relations(site):
            zoned = dict(fields)
            zoned["relation"] = relation
            suffix = ""
            if zone is not None:
                zoned["zone"] = zone
                suffix = f"@{zone}"
            add(f"{fid}{suffix}", zoned, tuple(origin))

    def resolve(
        self,
        spec: FactSpec,
        fields: dict[str, Any],
        paths: dict[str, str],
        origin: list[str],
        path: str,
    ) -> None:
        """Terms to canonical ids (with their classes), sites to site ids."""
        for name, fspec in _resolvable(spec):
            if fspec.type == "term" and name in fields and fields[name] is not None:
                self.term(fields, paths, origin, name, fspec.terms, path)
            elif fspec.type == "site" and name in fields and name != spec.site_field:
                fields[name] = resolve_site(self.k, str(fields[name])) or fields[name]
            elif fspec.type == "text" and isinstance(fields.get(name), str):
                folded = fold_text(fields[name])
                if folded != fields[name]:
                    origin.append(f"{name}: '{fields[name]}' compared as '{folded}'")
                fields[name] = folded

    def relations(self, site: str) -> list[tuple[str | None, str]]:
        covered = set(self.k.sites.get(site, ()))
        out: list[tuple[str | None, str]] = []
        for zone in self.planned:
            if zone in covered:
                out.append((zone, "in"))
            elif any(zone in self.k.zones[c].near or c in self.k.zones[zone].near for c in covered):
                out.append((zone, "near"))
        return out or [(None, "outside")]

    def term(
        self,
        fields: dict[str, Any],
        paths: dict[str, str],
        origin: list[str],
        name: str,
        kinds: list[TermKind],
        path: str,
    ) -> None:
        text = str(fields[name])
        paths["is_a"] = f"{path}.{name}"
        match = self.k.terminology.lookup(text, kinds)
        if match is None:
            self.unrecognized.append(Unrecognized(field=f"{path}.{name}", entry=text))
            origin.append(f"'{text}' is not in the terminology")
            return
        fields[name] = match.term
        fields["is_a"] = list(match.is_a)
        classes = [c for c in match.is_a if c != match.term]
        via = "" if match.via == "id" else f" ({match.via})"
        origin.append(
            f"'{text}' -> {match.term}{via}" + (f" -> {', '.join(classes)}" if classes else ""),
        )
        term = self.k.terminology.terms.get(match.term)
        if "substance" in kinds and term is not None and term.intradermal is not None:
            fields["intradermal"] = term.intradermal
            paths["intradermal"] = f"{path}.{name}"


def build_facts(
    knowledge: Knowledge, case: Case, unanswer: frozenset[str] = frozenset()
) -> FactSet:
    """Turn a validated case into facts; ``unanswer`` lists fields to treat as unanswered."""
    return _Builder(knowledge, case, unanswer).build()
