"""Load a knowledge directory, validate it as a whole, and build the typed Knowledge."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from engine.errors import KnowledgeError, Problem, locate
from engine.loader import Document, load_file
from engine.location import Location, PathPart
from engine.logic import CareOut, FindingOut, LimitOut, LogicRule, Output, StateOut
from engine.model import (
    CatalogueEntry,
    CatalogueFile,
    ConsistencyCheck,
    ConsistencyFile,
    DepthFile,
    FactSpec,
    Manifest,
    Policy,
    RuleFile,
    SitesFile,
    Source,
    SourceFile,
    Term,
    TermClass,
    TerminologyFile,
    VocabularyFile,
    Zone,
)
from engine.patterns import Pattern, Ref, parse_ref, parse_when
from engine.terminology import Terminology, build_terminology
from engine.vocabulary import Vocabulary, build_vocabulary, fold_text

M = TypeVar("M", bound=BaseModel)

REQUIRED_FILES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("knowledge.yaml", Manifest),
    ("sources.yaml", SourceFile),
    ("catalogue.yaml", CatalogueFile),
    ("vocabulary.yaml", VocabularyFile),
    ("sites.yaml", SitesFile),
    ("depth.yaml", DepthFile),
    ("policy.yaml", Policy),
)
RESERVED_FIELDS = frozenset(
    {"kind", "fid", "id", "sid", "is_a", "entry", "relation", "intradermal"}
)
"""Fact fields the engine sets itself; a vocabulary field of that name would overwrite them."""
OPTIONAL_FILES: tuple[tuple[str, type[BaseModel]], ...] = (("consistency.yaml", ConsistencyFile),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A consistency check with its parsed patterns."""

    spec: ConsistencyCheck
    patterns: tuple[Pattern, ...]
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Knowledge:
    """A validated knowledge base: everything the compiler and the assessment need."""

    root: Path
    manifest: Manifest
    sources: Mapping[str, Source]
    catalogue: Mapping[str, CatalogueEntry]
    vocabulary: Vocabulary
    zones: Mapping[str, Zone]
    sites: Mapping[str, tuple[str, ...]]
    """Site or zone id -> the zones it covers."""
    terminology: Terminology
    rules: tuple[LogicRule, ...]
    depth: DepthFile
    policy: Policy
    checks: tuple[Check, ...]
    hash: str
    """sha256 of the canonical JSON of every file's content."""
    warnings: tuple[Problem, ...] = ()
    rule_index: Mapping[str, LogicRule] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The knowledge's machine name."""
        return self.manifest.name

    @property
    def version(self) -> str:
        """The knowledge release version."""
        return self.manifest.version


class _Loader:
    """Collects documents and problems for one knowledge directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.docs: dict[str, Document] = {}
        self.content: dict[str, Any] = {}

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def problem(
        self,
        doc: Document,
        code: str,
        message: str,
        path: tuple[PathPart, ...],
        *,
        severity: str = "error",
        hint: str = "",
        key: bool = False,
    ) -> Problem:
        index = doc.key_index if key and path in doc.key_index else doc.index
        problem = Problem(
            code=code,
            message=message,
            location=locate(index, doc.file, path),
            severity="warning" if severity == "warning" else "error",
            hint=hint,
        )
        self.problems.append(problem)
        return problem

    def parse(self, rel: str, model: type[M], *, required: bool) -> tuple[Document, M] | None:
        path = self.root / rel
        if not path.exists():
            if required:
                self.problems.append(
                    Problem(
                        code="knowledge.missing_file",
                        message=f"required knowledge file '{rel}' is missing",
                        location=Location(file=self.display(path)),
                    ),
                )
            return None
        doc, problems = load_file(path, self.display(path))
        self.problems.extend(problems)
        if doc is None:
            return None
        self.docs[rel] = doc
        self.content[rel] = doc.data
        try:
            return doc, model.model_validate(doc.data)
        except ValidationError as exc:
            for err in exc.errors():
                self._report_validation(doc, err, model)
            return None

    def _report_validation(self, doc: Document, err: Any, model: type[BaseModel]) -> None:  # noqa: ANN401
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            hint = f"expected one of: {', '.join(allowed)}" if allowed else ""
            self.problem(
                doc,
                "schema.unknown_key",
                f"unknown key '{loc[-1]}'",
                loc,
                hint=hint,
                key=True,
            )
        elif kind == "missing":
            self.problem(
                doc, "schema.missing_key", f"required key '{loc[-1]}' is missing", loc[:-1]
            )
        else:
            shown = err.get("input")
            text = json.dumps(shown, default=str) if _small(shown) else type(shown).__name__
            where = ".".join(str(p) for p in loc if isinstance(p, str) and "[" not in p)
            self.problem(
                doc,
                "schema.invalid",
                f"{where or 'value'}: {err['msg']} (got {text})",
                tuple(p for p in loc if isinstance(p, (str, int)) and not _is_tag(p)),
            )


def _is_tag(part: object) -> bool:
    # pydantic inserts union-member tags such as 'str' or 'list[str]' or 'function-after[...]'.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _small(value: object) -> bool:
    return value is None or (isinstance(value, (str, int, float, bool)) and len(str(value)) < 60)  # noqa: PLR2004


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or _is_tag(part):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            break
        info = current.model_fields.get(part)
        if info is None:
            for candidate in current.model_fields.values():
                if candidate.alias == part:
                    info = candidate
            if info is None:
                return []
        current = _inner_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> Any:  # noqa: ANN401
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def load_knowledge(root: Path | str) -> Knowledge:
    """Load and validate a knowledge directory; raise KnowledgeError listing every problem."""
    loader = _Loader(Path(root))
    if not loader.root.is_dir():
        raise KnowledgeError(
            [
                Problem(
                    code="knowledge.not_found",
                    message="knowledge directory not found",
                    location=Location(file=str(root)),
                ),
            ],
        )
    parsed: dict[str, tuple[Document, Any]] = {}
    for rel, model in REQUIRED_FILES:
        result = loader.parse(rel, model, required=True)
        if result is not None:
            parsed[rel] = result
    for rel, model in OPTIONAL_FILES:
        result = loader.parse(rel, model, required=False)
        if result is not None:
            parsed[rel] = result
    term_files: list[tuple[Document, TerminologyFile]] = []
    for path in sorted((loader.root / "terminology").glob("*.yaml")):
        rel = str(path.relative_to(loader.root))
        result = loader.parse(rel, TerminologyFile, required=False)
        if result is not None:
            term_files.append(result)
    rule_files: list[tuple[Document, RuleFile]] = []
    for path in sorted((loader.root / "rules").glob("*.yaml")):
        rel = str(path.relative_to(loader.root))
        result = loader.parse(rel, RuleFile, required=False)
        if result is not None:
            rule_files.append(result)
    if not rule_files and not [p for p in loader.problems if p.severity == "error"]:
        loader.problems.append(
            Problem(
                code="knowledge.no_rules",
                message="no rule files found under rules/",
                location=Location(file=loader.display(loader.root / "rules")),
            ),
        )
    if any(p.severity == "error" for p in loader.problems) or len(parsed) < len(REQUIRED_FILES):
        raise KnowledgeError(loader.problems)
    return _assemble(loader, parsed, term_files, rule_files)


def _assemble(
    loader: _Loader,
    parsed: dict[str, tuple[Document, Any]],
    term_files: list[tuple[Document, TerminologyFile]],
    rule_files: list[tuple[Document, RuleFile]],
) -> Knowledge:
    manifest: Manifest = parsed["knowledge.yaml"][1]
    src_doc, src_file = parsed["sources.yaml"]
    cat_doc, cat_file = parsed["catalogue.yaml"]
    voc_doc, voc_file = parsed["vocabulary.yaml"]
    site_doc, site_file = parsed["sites.yaml"]
    depth_doc, depth_file = parsed["depth.yaml"]
    policy: Policy = parsed["policy.yaml"][1]

    sources, catalogue = _registers(loader, src_doc, src_file, cat_doc, cat_file)
    zones, sites = _sites(loader, site_doc, site_file)
    terms = [t for _, f in term_files for t in f.terms]
    classes = [c for _, f in term_files for c in f.classes]
    terminology, ambiguities = build_terminology(terms, classes)
    _check_terms(loader, term_files, terminology, sites, ambiguities)

    vocabulary = build_vocabulary(voc_file.facts)
    _check_vocabulary(loader, voc_doc, voc_file.facts, sites)

    checker = _RuleChecker(
        loader,
        catalogue=catalogue,
        sources=sources,
        vocabulary=vocabulary,
        terminology=terminology,
        zones=zones,
        sites=sites,
    )
    logic: list[LogicRule] = []
    for doc, rule_file in rule_files:
        for i, rule in enumerate(rule_file.rules):
            built = checker.rule(doc, rule, ("rules", i))
            if built is not None:
                logic.append(built)
    logic.extend(checker.depth(depth_doc, depth_file))
    checks: list[Check] = []
    if "consistency.yaml" in parsed:
        con_doc, con_file = parsed["consistency.yaml"]
        for i, spec in enumerate(con_file.checks):
            built_check = checker.check(con_doc, spec, ("checks", i))
            if built_check is not None:
                checks.append(built_check)
    checker.finish(logic, cat_doc, catalogue)
    _check_policy(loader, parsed["policy.yaml"][0], policy)
    if not manifest.reviewed_by or manifest.reviewed_on is None:
        loader.problem(
            parsed["knowledge.yaml"][0],
            "release.unreviewed",
            f"knowledge release {manifest.version} has no reviewed_by/reviewed_on",
            (),
            severity="warning",
            hint="a clinician reviews each release and records their name and the date",
        )
    errors = [p for p in loader.problems if p.severity == "error"]
    if errors:
        raise KnowledgeError(loader.problems)
    digest = hashlib.sha256(
        json.dumps(loader.content, sort_keys=True, default=str, separators=(",", ":")).encode(),
    ).hexdigest()
    rules_tuple = tuple(logic)
    return Knowledge(
        root=loader.root,
        manifest=manifest,
        sources=sources,
        catalogue=catalogue,
        vocabulary=vocabulary,
        zones=zones,
        sites=sites,
        terminology=terminology,
        rules=rules_tuple,
        depth=depth_file,
        policy=policy,
        checks=tuple(checks),
        hash=digest,
        warnings=tuple(loader.problems),
        rule_index={r.id: r for r in rules_tuple},
    )


def _registers(
    loader: _Loader,
    src_doc: Document,
    src_file: SourceFile,
    cat_doc: Document,
    cat_file: CatalogueFile,
) -> tuple[dict[str, Source], dict[str, CatalogueEntry]]:
    sources: dict[str, Source] = {}
    for i, src in enumerate(src_file.sources):
        if src.id in sources:
            loader.problem(
                src_doc,
                "source.duplicate_id",
                f"source id '{src.id}' is used twice",
                ("sources", i, "id"),
            )
        sources[src.id] = src
    catalogue: dict[str, CatalogueEntry] = {}
    for i, entry in enumerate(cat_file.findings):
        if entry.code in catalogue:
            loader.problem(
                cat_doc,
                "catalogue.duplicate_code",
                f"code '{entry.code}' is listed twice",
                ("findings", i, "code"),
            )
        catalogue[entry.code] = entry

    return sources, catalogue


def _sites(
    loader: _Loader,
    site_doc: Document,
    site_file: SitesFile,
) -> tuple[dict[str, Zone], dict[str, tuple[str, ...]]]:
    zones: dict[str, Zone] = {}
    sites: dict[str, tuple[str, ...]] = {}
    for i, zone in enumerate(site_file.zones):
        if zone.id in zones:
            loader.problem(
                site_doc,
                "sites.duplicate_id",
                f"zone '{zone.id}' is listed twice",
                ("zones", i, "id"),
            )
        zones[zone.id] = zone
        sites[zone.id] = (zone.id,)
    for i, zone in enumerate(site_file.zones):
        for j, near in enumerate(zone.near):
            if near not in zones:
                loader.problem(
                    site_doc,
                    "sites.unknown_zone",
                    f"unknown zone '{near}'",
                    ("zones", i, "near", j),
                )
    for i, site in enumerate(site_file.sites):
        if site.id in sites:
            loader.problem(
                site_doc,
                "sites.duplicate_id",
                f"site '{site.id}' is listed twice",
                ("sites", i, "id"),
            )
        for j, covered in enumerate(site.covers):
            if covered not in zones:
                loader.problem(
                    site_doc,
                    "sites.unknown_zone",
                    f"unknown zone '{covered}'",
                    ("sites", i, "covers", j),
                )
        sites[site.id] = tuple(site.covers)

    return zones, sites


def _check_terms(
    loader: _Loader,
    term_files: list[tuple[Document, TerminologyFile]],
    terminology: Terminology,
    sites: Mapping[str, tuple[str, ...]],
    ambiguities: list[tuple[str, str]],
) -> None:
    seen: set[str] = set()
    for doc, term_file in term_files:
        sections: tuple[tuple[str, Sequence[Term | TermClass]], ...] = (
            ("classes", term_file.classes),
            ("terms", term_file.terms),
        )
        for section, items in sections:
            for i, item in enumerate(items):
                if item.id in seen:
                    loader.problem(
                        doc,
                        "term.duplicate_id",
                        f"term id '{item.id}' is defined twice",
                        (section, i, "id"),
                    )
                seen.add(item.id)
                for j, parent in enumerate(item.is_a):
                    if not terminology.known(parent):
                        loader.problem(
                            doc,
                            "term.unknown_class",
                            f"unknown class '{parent}'",
                            (section, i, "is_a", j),
                        )
                if item.kind == "site" and item.id not in sites:
                    loader.problem(
                        doc,
                        "term.unknown_site",
                        f"site term '{item.id}' must be a zone or site id of sites.yaml",
                        (section, i, "id"),
                    )
            for target, message in ambiguities:
                for i, item in enumerate(items):
                    if item.id == target:
                        loader.problem(doc, "term.ambiguous", message, (section, i))


def _check_vocabulary(
    loader: _Loader,
    doc: Document,
    facts: Mapping[str, FactSpec],
    sites: Mapping[str, tuple[str, ...]],
) -> None:
    for kind, spec in facts.items():
        base = ("facts", kind)
        for attr in ("scalar_field", "key_field", "site_field"):
            name = getattr(spec, attr)
            if name is not None and name not in spec.fields:
                loader.problem(
                    doc,
                    "vocabulary.unknown_field",
                    f"{attr} '{name}' is not a field of '{kind}'",
                    (*base, attr),
                )
        if spec.site_default is not None and spec.site_default not in sites:
            loader.problem(
                doc,
                "vocabulary.unknown_site",
                f"site_default '{spec.site_default}' is not a site",
                (*base, "site_default"),
            )
        for name in spec.fields:
            if name in RESERVED_FIELDS:
                loader.problem(
                    doc,
                    "vocabulary.reserved_field",
                    f"'{name}' is reserved for the engine; rename the field",
                    (*base, "fields", name),
                    key=True,
                )
        term_fields = [n for n, f in spec.fields.items() if f.type == "term"]
        if len(term_fields) > 1:
            loader.problem(
                doc,
                "vocabulary.two_terms",
                f"'{kind}' has more than one term field: {term_fields}",
                base,
            )
        for name, fspec in spec.fields.items():
            if fspec.type == "enum" and not fspec.values:
                loader.problem(
                    doc,
                    "vocabulary.enum_values",
                    f"enum field '{name}' needs 'values'",
                    (*base, "fields", name),
                )
            if fspec.type == "term" and not fspec.terms:
                loader.problem(
                    doc,
                    "vocabulary.term_kinds",
                    f"term field '{name}' needs 'terms'",
                    (*base, "fields", name),
                )


def _check_policy(loader: _Loader, doc: Document, policy: Policy) -> None:
    seen = [a.action for a in policy.actions]
    for action in ("decline", "defer", "refer", "decline_zone", "modify", "counsel"):
        if action not in seen:
            loader.problem(
                doc, "policy.missing_action", f"action '{action}' has no decision", ("actions",)
            )


class _RuleChecker:
    """Semantic validation of rules, depth rows and checks against the vocabulary."""

    def __init__(
        self,
        loader: _Loader,
        *,
        catalogue: Mapping[str, CatalogueEntry],
        sources: Mapping[str, Source],
        vocabulary: Vocabulary,
        terminology: Terminology,
        zones: Mapping[str, Zone],
        sites: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.loader = loader
        self.catalogue = catalogue
        self.sources = sources
        self.vocabulary = vocabulary
        self.terminology = terminology
        self.zones = zones
        self.sites = sites
        self.ids: dict[str, Location] = {}
        self.states_used: dict[str, tuple[Document, tuple[PathPart, ...]]] = {}
        self.states_derived: set[str] = set()

    def _sources(
        self,
        doc: Document,
        rule_id: str,
        ids: list[str],
        path: tuple[PathPart, ...],
        silenced: tuple[str, ...] = (),
    ) -> None:
        tiers = []
        for i, sid in enumerate(ids):
            src = self.sources.get(sid)
            if src is None:
                self.loader.problem(
                    doc,
                    "rule.unknown_source",
                    f"unknown source id '{sid}'",
                    (*path, "sources", i),
                    hint="add it to sources.yaml or fix the id",
                )
            else:
                tiers.append(src.tier)
        if tiers and all(t == "consumer" for t in tiers):
            self.loader.problem(
                doc,
                "rule.consumer_only",
                f"rule '{rule_id}' rests only on consumer sources",
                (*path, "sources"),
            )
        elif (
            tiers
            and all(t in {"seed", "clinic", "consumer"} for t in tiers)
            and "rule.weak_sources" not in silenced
        ):
            self.loader.problem(
                doc,
                "rule.weak_sources",
                f"rule '{rule_id}' rests only on the seed, clinic and consumer pages",
                (*path, "sources"),
                severity="warning",
                hint="cite a stronger source, or silence with a reason",
            )

    def _unique(self, doc: Document, rule_id: str, path: tuple[PathPart, ...]) -> bool:
        if rule_id in self.ids:
            self.loader.problem(
                doc,
                "rule.duplicate_id",
                f"rule id '{rule_id}' is already used at {self.ids[rule_id]}",
                (*path, "id"),
            )
            return False
        self.ids[rule_id] = locate(doc.index, doc.file, path)
        return True

    def _patterns(
        self,
        doc: Document,
        when: list[Any],
        path: tuple[PathPart, ...],
    ) -> tuple[Pattern, ...] | None:
        def report(code: str, message: str, where: tuple[PathPart, ...]) -> None:
            self.loader.problem(doc, code, message, where)

        patterns = parse_when(when, path, report)
        if patterns is None:
            return None
        ok = True
        bound: dict[str, str] = {}
        for pattern in patterns:
            ok = self._pattern(doc, pattern, bound) and ok
            if not pattern.negated:
                bound[pattern.alias] = pattern.kind
        if not ok:
            return None
        return tuple(self._folded(p) for p in patterns)

    def _folded(self, pattern: Pattern) -> Pattern:
        """Free-text fields compare case- and punctuation-insensitively (facts are folded too)."""
        fields = self.vocabulary.fields_of(pattern.kind) or {}
        tests = []
        for test in pattern.tests:
            if fields.get(test.field) == "text" and test.op in {"eq", "ne", "in", "not_in"}:
                value = test.value
                if isinstance(value, tuple):
                    value = tuple(fold_text(v) if isinstance(v, str) else v for v in value)
                elif isinstance(value, str):
                    value = fold_text(value)
                test = replace(test, value=value)  # noqa: PLW2901
            tests.append(test)
        return replace(pattern, tests=tuple(tests))

    def _pattern(self, doc: Document, pattern: Pattern, bound: Mapping[str, str]) -> bool:
        fields = self.vocabulary.fields_of(pattern.kind)
        if fields is None:
            kinds = ", ".join(self.vocabulary.kinds())
            self.loader.problem(
                doc,
                "rule.unknown_kind",
                f"unknown fact kind '{pattern.kind}'",
                pattern.path,
                key=True,
                hint=f"expected one of: {kinds}",
            )
            return False
        ok = True
        reported: set[str] = set()
        for test in pattern.tests:
            ftype = fields.get(test.field)
            if ftype is None:
                if test.field not in reported:
                    reported.add(test.field)
                    field_path = test.path if test.path[-1] == test.field else test.path[:-1]
                    self.loader.problem(
                        doc,
                        "rule.unknown_field",
                        f"'{pattern.kind}' has no field '{test.field}'",
                        field_path,
                        key=True,
                        hint=f"fields of {pattern.kind}: {', '.join(sorted(fields))}",
                    )
                ok = False
                continue
            ok = self._test_value(doc, pattern, test.field, ftype, test) and ok
            if isinstance(test.value, Ref):
                ok = self._ref(doc, test.value, bound, test.path) and ok
        return ok

    def _ref(
        self,
        doc: Document,
        ref: Ref,
        bound: Mapping[str, str],
        path: tuple[PathPart, ...],
    ) -> bool:
        kind = bound.get(ref.alias)
        if kind is None:
            self.loader.problem(
                doc,
                "rule.unknown_alias",
                f"'{ref}' refers to '{ref.alias}', which no earlier pattern names",
                path,
                hint=f"names bound so far: {', '.join(bound) or 'none'}",
            )
            return False
        fields = self.vocabulary.fields_of(kind) or {}
        if ref.field not in fields:
            self.loader.problem(
                doc, "rule.unknown_field", f"'{kind}' has no field '{ref.field}'", path
            )
            return False
        if fields[ref.field] == "list":
            self.loader.problem(doc, "rule.bad_test", f"cannot join on list field '{ref}'", path)
            return False
        return True

    def _test_value(  # noqa: C901 - one branch per kind of test value
        self,
        doc: Document,
        pattern: Pattern,
        field: str,
        ftype: str,
        test: Any,  # noqa: ANN401
    ) -> bool:
        values: tuple[Any, ...]
        if test.op in {"known", "same_as"}:
            return True
        values = test.value if isinstance(test.value, tuple) else (test.value,)
        if test.op in {"lt", "le", "gt", "ge"}:
            if ftype not in {"integer", "number"}:
                self.loader.problem(
                    doc,
                    "rule.bad_test",
                    f"'{test.op}' compares numbers but '{field}' is {ftype}",
                    test.path,
                )
                return False
            return True
        if test.op == "is_a":
            ok = True
            for value in values:
                if not self.terminology.known(str(value)):
                    self.loader.problem(
                        doc,
                        "rule.unknown_term",
                        f"unknown term or class '{value}'",
                        test.path,
                        hint="define it in terminology/ or fix the spelling",
                    )
                    ok = False
            return ok
        wrong = _wrong_type(ftype, values)
        if wrong is not None:
            self.loader.problem(
                doc,
                "rule.bad_value_type",
                f"{pattern.kind}.{field} is {ftype}: {wrong!r} can never match",
                test.path,
            )
            return False
        allowed = self.vocabulary.allowed_values(pattern.kind, field)
        if pattern.kind == "finding" and field == "code":
            allowed = tuple(self.catalogue)
        if ftype == "site":
            allowed = tuple(self.sites)
        if pattern.kind == "state" and field == "name":
            for value in values:
                self.states_used.setdefault(str(value), (doc, test.path))
            return True
        if allowed is None:
            return True
        ok = True
        for value in values:
            if value not in allowed:
                shown = ", ".join(str(a) for a in allowed[:20])
                self.loader.problem(
                    doc,
                    "rule.unknown_value",
                    f"'{value}' is not a value of {pattern.kind}.{field}",
                    test.path,
                    hint=f"expected one of: {shown}",
                )
                ok = False
        return ok

    def _conclusion_ref(
        self,
        doc: Document,
        text: str | None,
        patterns: tuple[Pattern, ...],
        path: tuple[PathPart, ...],
        *,
        numeric: bool = False,
    ) -> tuple[bool, Ref | None]:
        if text is None:
            return True, None
        ref = parse_ref(text)
        bound = {p.alias: p.kind for p in patterns if not p.negated}
        if ref is None:
            self.loader.problem(
                doc, "rule.bad_reference", f"expected 'name.field', got '{text}'", path
            )
            return False, None
        if not self._ref(doc, ref, bound, path):
            return False, None
        if numeric:
            ftype = (self.vocabulary.fields_of(bound[ref.alias]) or {}).get(ref.field)
            if ftype not in {"integer", "number"}:
                self.loader.problem(doc, "rule.bad_reference", f"'{text}' is not a day count", path)
                return False, None
        return True, ref

    def rule(self, doc: Document, rule: Any, path: tuple[PathPart, ...]) -> LogicRule | None:  # noqa: ANN401
        unique = self._unique(doc, rule.id, path)
        silenced = tuple(s.warning for s in rule.silence)
        self._sources(doc, rule.id, rule.sources, path, silenced)
        then = rule.then
        if then.state is not None:
            self.states_derived.add(then.state)  # even when the rule itself has errors
        patterns = self._patterns(doc, rule.when, (*path, "when"))
        if then.finding is not None and then.finding not in self.catalogue:
            self.loader.problem(
                doc,
                "rule.unknown_code",
                f"finding code '{then.finding}' is not in the catalogue",
                (*path, "then", "finding"),
            )
            return None
        if patterns is None or not unique:
            return None
        output: Output
        if then.finding is not None:
            if then.finding not in self.catalogue:
                self.loader.problem(
                    doc,
                    "rule.unknown_code",
                    f"finding code '{then.finding}' is not in the catalogue",
                    (*path, "then", "finding"),
                )
                return None
            ok_zone, zone = self._conclusion_ref(doc, then.zone, patterns, (*path, "then", "zone"))
            ok_wait, since = (True, None)
            if then.wait is not None:
                ok_wait, since = self._conclusion_ref(
                    doc,
                    then.wait.since,
                    patterns,
                    (*path, "then", "wait", "since"),
                    numeric=True,
                )
            if not (ok_zone and ok_wait):
                return None
            output = FindingOut(
                code=then.finding,
                zone=zone,
                wait_days=then.wait.days if then.wait else None,
                wait_since=since,
                advice=then.advice,
            )
        elif then.state is not None:
            ok_zone, zone = self._conclusion_ref(doc, then.zone, patterns, (*path, "then", "zone"))
            if not ok_zone:
                return None
            output = StateOut(name=then.state, zone=zone)
        elif then.precare:
            output = CareOut(section="precare", items=tuple(then.precare))
        elif then.aftercare:
            output = CareOut(section="aftercare", items=tuple(then.aftercare))
        else:
            output = CareOut(section="expected_effects", items=tuple(then.expected_effects))
        return LogicRule(
            id=rule.id,
            title=rule.title,
            rationale=rule.rationale,
            sources=tuple(rule.sources),
            disputed=rule.disputed,
            patterns=patterns,
            output=output,
            origin="rule",
            location=locate(doc.index, doc.file, path),
            silenced=silenced,
        )

    def _zones(self, doc: Document, names: list[str], path: tuple[PathPart, ...]) -> list[str]:
        zones: list[str] = []
        for i, name in enumerate(names):
            covered = self.sites.get(name)
            if covered is None:
                self.loader.problem(
                    doc, "depth.unknown_zone", f"unknown zone or site '{name}'", (*path, i)
                )
                continue
            zones.extend(z for z in covered if z not in zones)
        return zones

    def _indications(
        self,
        doc: Document,
        names: list[str] | None,
        path: tuple[PathPart, ...],
    ) -> bool:
        allowed = self.vocabulary.allowed_values("area", "indication") or ()
        ok = True
        for i, name in enumerate(names or []):
            if name not in allowed:
                self.loader.problem(
                    doc,
                    "depth.unknown_indication",
                    f"unknown indication '{name}'",
                    (*path, i),
                    hint=f"expected one of: {', '.join(map(str, allowed))}",
                )
                ok = False
        return ok

    def depth(self, doc: Document, depth: DepthFile) -> list[LogicRule]:
        """Turn the depth table into logic rules that derive limit facts."""
        out: list[LogicRule] = []
        for code_field in ("above_soft", "exceeds_hard", "no_sourced_limit"):
            code = getattr(depth.verdict_findings, code_field)
            if code not in self.catalogue:
                self.loader.problem(
                    doc,
                    "depth.unknown_code",
                    f"code '{code}' is not in the catalogue",
                    ("verdict_findings", code_field),
                )
        for i, row in enumerate(depth.limits):
            path: tuple[PathPart, ...] = ("limits", i)
            unique = self._unique(doc, row.id, path)
            self._sources(doc, row.id, row.sources, path)
            zones = self._zones(doc, row.zones, (*path, "zones"))
            ok = self._indications(doc, row.indications, (*path, "indications"))
            if row.do_not_treat is not None and row.do_not_treat not in self.catalogue:
                self.loader.problem(
                    doc,
                    "depth.unknown_code",
                    f"code '{row.do_not_treat}' is not in the catalogue",
                    (*path, "do_not_treat"),
                )
                ok = False
            if not (unique and ok and zones):
                continue
            out.append(
                LogicRule(
                    id=row.id,
                    title=row.title,
                    rationale=row.rationale,
                    sources=tuple(row.sources),
                    disputed=row.disputed,
                    patterns=(_area_pattern(zones, row.indications, path),),
                    output=LimitOut(
                        area_alias="area",
                        soft_mm=row.soft_mm,
                        hard_mm=row.hard_mm,
                        recommended_mm=row.recommended_mm,
                        no_sourced_limit=row.no_sourced_limit,
                        do_not_treat=row.do_not_treat,
                    ),
                    origin="depth_limit",
                    location=locate(doc.index, doc.file, path),
                ),
            )
        for i, adj in enumerate(depth.adjustments):
            path = ("adjustments", i)
            unique = self._unique(doc, adj.id, path)
            self._sources(doc, adj.id, adj.sources, path)
            zones = self._zones(doc, adj.zones, (*path, "zones"))
            ok = self._indications(doc, adj.indications, (*path, "indications"))
            patterns = self._patterns(doc, adj.when, (*path, "when"))
            if patterns is None or not (unique and ok and zones):
                continue
            if any(p.alias == "area" for p in patterns):
                self.loader.problem(
                    doc,
                    "depth.area_alias",
                    "an adjustment's 'when' must not name a pattern 'area'",
                    (*path, "when"),
                )
                continue
            out.append(
                LogicRule(
                    id=adj.id,
                    title=adj.title,
                    rationale=adj.rationale,
                    sources=tuple(adj.sources),
                    disputed=adj.disputed,
                    patterns=(*patterns, _area_pattern(zones, adj.indications, path)),
                    output=LimitOut(area_alias="area", soft_mm=adj.soft_mm, hard_mm=adj.hard_mm),
                    origin="depth_adjustment",
                    location=locate(doc.index, doc.file, path),
                ),
            )
        return out

    def check(
        self, doc: Document, spec: ConsistencyCheck, path: tuple[PathPart, ...]
    ) -> Check | None:
        """Validate a consistency check."""
        unique = self._unique(doc, spec.id, path)
        patterns = self._patterns(doc, spec.when, (*path, "when"))
        ok = True
        for i, target in enumerate(spec.unanswer):
            if not self.vocabulary.has_path(target):
                self.loader.problem(
                    doc,
                    "consistency.unknown_field",
                    f"'{target}' is not a question of the vocabulary",
                    (*path, "unanswer", i),
                )
                ok = False
        if patterns is None or not (unique and ok):
            return None
        return Check(spec=spec, patterns=patterns, location=locate(doc.index, doc.file, path))

    def finish(
        self,
        rules: list[LogicRule],
        cat_doc: Document,
        catalogue: Mapping[str, CatalogueEntry],
    ) -> None:
        """Whole-knowledge checks: states used but never derived."""
        derived = {r.output.name for r in rules if isinstance(r.output, StateOut)}
        derived |= self.states_derived
        for name, (doc, path) in self.states_used.items():
            if name not in derived:
                self.loader.problem(
                    doc,
                    "rule.state_never_derived",
                    f"state '{name}' is used but no rule derives it",
                    path,
                )
        del cat_doc, catalogue


def _wrong_type(ftype: str, values: tuple[Any, ...]) -> Any:  # noqa: ANN401
    """The first value a field of ``ftype`` can never equal (None when all can)."""
    for value in values:
        if ftype == "boolean" and not isinstance(value, bool):
            return value
        if ftype in {"integer", "number"} and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            return value
        if ftype in {"text", "term", "site"} and not isinstance(value, str):
            return value
    return None


def _area_pattern(
    zones: list[str],
    indications: list[str] | None,
    path: tuple[PathPart, ...],
) -> Pattern:
    from engine.patterns import Test  # noqa: PLC0415 - local to keep the import list short

    tests = [Test(field="zone", op="in", value=tuple(zones), path=(*path, "zones"))]
    if indications:
        tests.append(
            Test(
                field="indication", op="in", value=tuple(indications), path=(*path, "indications")
            ),
        )
    return Pattern(kind="area", alias="area", negated=False, tests=tuple(tests), path=path)
