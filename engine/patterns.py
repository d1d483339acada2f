"""Rule conditions: the readable YAML pattern syntax parsed into typed patterns and tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from engine.errors import Problem
from engine.location import PathPart

Scalar = str | int | float | bool | None
Op = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "known", "same_as", "is_a"]
COMPARISONS: frozenset[str] = frozenset({"lt", "le", "gt", "ge"})
OPERATORS: tuple[str, ...] = (
    "eq",
    "ne",
    "in",
    "not_in",
    "lt",
    "le",
    "gt",
    "ge",
    "known",
    "same_as",
)
RESERVED_KEYS = frozenset({"as", "not"})


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a field of a fact matched by an earlier pattern: ``alias.field``."""

    alias: str
    field: str

    def __str__(self) -> str:
        """Render as ``alias.field``."""
        return f"{self.alias}.{self.field}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Test:
    """One test on one field of a fact."""

    field: str
    op: Op
    value: Scalar | tuple[Scalar, ...] | Ref
    path: tuple[PathPart, ...]
    """Where the test stands in its file (for messages)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pattern:
    """A pattern: a fact of ``kind`` passing every test (or, negated, no such fact)."""

    kind: str
    alias: str
    negated: bool
    tests: tuple[Test, ...]
    path: tuple[PathPart, ...]


ProblemSink = Callable[[str, str, tuple[PathPart, ...]], None]
"""(code, message, path) -> records a problem."""


def parse_ref(text: str) -> Ref | None:
    """Parse ``alias.field``; None when the text has another shape."""
    parts = text.split(".")
    if len(parts) != 2 or not all(p.replace("_", "").isalnum() for p in parts):  # noqa: PLR2004
        return None
    return Ref(parts[0], parts[1])


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _parse_tests(
    field: str,
    spec: Any,  # noqa: ANN401 - raw YAML
    path: tuple[PathPart, ...],
    report: ProblemSink,
) -> list[Test]:
    if field == "is_a":
        values = spec if isinstance(spec, list) else [spec]
        if not values or not all(isinstance(v, str) for v in values):
            report("rule.bad_test", "is_a takes a term or class id, or a list of them", path)
            return []
        return [Test(field=field, op="is_a", value=tuple(values), path=path)]
    if isinstance(spec, list):
        if not spec or not all(_is_scalar(v) for v in spec):
            report("rule.bad_test", f"'{field}': a list must hold plain values", path)
            return []
        return [Test(field=field, op="in", value=tuple(spec), path=path)]
    if _is_scalar(spec):
        return [Test(field=field, op="eq", value=spec, path=path)]
    if not isinstance(spec, dict) or not spec:
        report("rule.bad_test", f"'{field}': expected a value, a list or operators", path)
        return []
    tests: list[Test] = []
    for op, arg in spec.items():
        test = _op_test(field, str(op), arg, (*path, op), report)
        if test is not None:
            tests.append(test)
    return tests


def _op_test(  # noqa: PLR0911 - one return per operator shape
    field: str,
    op: str,
    arg: Any,  # noqa: ANN401 - raw YAML
    sub: tuple[PathPart, ...],
    report: ProblemSink,
) -> Test | None:
    if op not in OPERATORS:
        report(
            "rule.unknown_operator",
            f"unknown operator '{op}' on '{field}'; expected one of {', '.join(OPERATORS)}",
            sub,
        )
        return None
    if op in {"in", "not_in"}:
        if not isinstance(arg, list) or not arg or not all(_is_scalar(v) for v in arg):
            report("rule.bad_test", f"'{op}' takes a non-empty list of plain values", sub)
            return None
        return Test(field=field, op=op, value=tuple(arg), path=sub)  # type: ignore[arg-type]
    if op in COMPARISONS:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            report("rule.bad_test", f"'{op}' takes a number, not {arg!r}", sub)
            return None
        return Test(field=field, op=op, value=arg, path=sub)  # type: ignore[arg-type]
    if op == "known":
        if not isinstance(arg, bool):
            report("rule.bad_test", "'known' takes true or false", sub)
            return None
        return Test(field=field, op="known", value=arg, path=sub)
    if op == "same_as":
        ref = parse_ref(arg) if isinstance(arg, str) else None
        if ref is None:
            report("rule.bad_test", "'same_as' takes 'name.field' of an earlier pattern", sub)
            return None
        return Test(field=field, op="same_as", value=ref, path=sub)
    if _is_scalar(arg):
        return Test(field=field, op=op, value=arg, path=sub)  # type: ignore[arg-type]
    report("rule.bad_test", f"'{op}' takes a plain value", sub)
    return None


def parse_pattern(
    item: Any,  # noqa: ANN401 - raw YAML
    path: tuple[PathPart, ...],
    report: ProblemSink,
) -> Pattern | None:
    """Parse one ``when`` item; report problems and return None when it is unusable."""
    if not isinstance(item, dict):
        report("rule.bad_pattern", "a pattern is a mapping such as 'client: {age: {lt: 22}}'", path)
        return None
    if "not" in item:
        if set(item) != {"not"}:
            report("rule.bad_pattern", "'not' stands alone: '- not: {kind: {...}}'", path)
            return None
        inner = parse_pattern(item["not"], (*path, "not"), report)
        if inner is None:
            return None
        if inner.negated:
            report("rule.bad_pattern", "'not' cannot be nested", path)
            return None
        return Pattern(
            kind=inner.kind,
            alias=f"not_{inner.alias}",
            negated=True,
            tests=inner.tests,
            path=inner.path,
        )
    kinds = [k for k in item if k not in RESERVED_KEYS]
    if len(kinds) != 1:
        report(
            "rule.bad_pattern",
            f"a pattern names exactly one fact kind, found {kinds or 'none'}",
            path,
        )
        return None
    kind = kinds[0]
    alias = item.get("as", kind)
    if not isinstance(alias, str) or not alias.isidentifier() or alias.startswith("phase_gate"):
        report("rule.bad_pattern", f"'as' must be a simple name, not {alias!r}", (*path, "as"))
        return None
    body = item[kind]
    body_path = (*path, kind)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        report("rule.bad_pattern", f"'{kind}' takes a mapping of field tests", body_path)
        return None
    tests: list[Test] = []
    for field, spec in body.items():
        tests.extend(_parse_tests(str(field), spec, (*body_path, field), report))
    return Pattern(kind=kind, alias=alias, negated=False, tests=tuple(tests), path=body_path)


def parse_when(
    items: list[Any],
    path: tuple[PathPart, ...],
    report: ProblemSink,
) -> tuple[Pattern, ...] | None:
    """Parse a ``when`` list; None when any pattern is unusable (problems are reported)."""
    patterns: list[Pattern] = []
    ok = True
    seen: set[str] = set()
    for i, item in enumerate(items):
        pattern = parse_pattern(item, (*path, i), report)
        if pattern is None:
            ok = False
            continue
        if pattern.alias in seen and not pattern.negated:
            report(
                "rule.duplicate_alias",
                f"two patterns are both named '{pattern.alias}'; name one with 'as:'",
                (*path, i),
            )
            ok = False
            continue
        if pattern.negated:
            # Negated patterns bind nothing, but durable still needs a unique name for each.
            pattern = replace(pattern, alias=f"not{i}_{pattern.alias.removeprefix('not_')}")
        seen.add(pattern.alias)
        patterns.append(pattern)
    if ok and all(p.negated for p in patterns):
        report("rule.bad_pattern", "a rule needs at least one pattern that is not 'not'", path)
        ok = False
    return tuple(patterns) if ok else None


def problem_sink(problems: list[Problem], make: Callable[..., Problem]) -> ProblemSink:
    """Adapt a problem factory into a sink."""

    def sink(code: str, message: str, path: tuple[PathPart, ...]) -> None:
        problems.append(make(code, message, path))

    return sink
