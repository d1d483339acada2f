"""Knowledge content by hash: snapshot a knowledge directory, restore it, replay a stored case.

A stored consultation carries ``Knowledge.hash`` (sha256 of the canonical JSON of the *parsed*
content). The records store keeps the *text* of every knowledge file once per hash, so that an
old consultation can be re-assessed and re-explained with exactly the knowledge that decided it,
after the bundled knowledge has moved on. The text snapshot is verified both ways: before it is
stored (its files must load to the same ``Knowledge.hash``) and after it is restored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from engine.assessment import Assessor, Trace
from engine.case import case_from_data
from engine.compile import compile_knowledge
from engine.errors import EngineError
from engine.knowledge import Knowledge, load_knowledge

SUFFIX = ".yaml"
"""Only YAML files are knowledge; the loader reads nothing else."""
IGNORED_FOR_REPLAY = frozenset({"engine"})
"""Assessment keys that may differ on replay without the decision being different."""


class SnapshotError(EngineError):
    """A knowledge snapshot could not be taken, stored or restored faithfully."""


def knowledge_files(root: Path | str) -> dict[str, str]:
    """Every ``*.yaml`` file under ``root`` as text, keyed by relative POSIX path, sorted.

    The text is decoded from the exact bytes (no newline translation), so that writing it back
    gives byte-identical files.
    """
    base = Path(root)
    if not base.is_dir():
        msg = f"knowledge directory '{base}' not found"
        raise SnapshotError(msg)
    files: dict[str, str] = {}
    for path in sorted(base.rglob(f"*{SUFFIX}")):
        if not path.is_file():
            continue
        rel = path.relative_to(base).as_posix()
        try:
            files[rel] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read knowledge file '{rel}': {exc}"
            raise SnapshotError(msg) from exc
    return dict(sorted(files.items()))


def snapshot_hash(files: Mapping[str, str]) -> str:
    """sha256 of the canonical JSON of the file texts (integrity of a stored snapshot).

    This is a hash of the *text*; ``Knowledge.hash`` is a hash of the parsed content. A snapshot
    is stored under ``Knowledge.hash`` and carries this one to detect damage.
    """
    canonical = json.dumps(dict(files), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _safe_relative(rel: str) -> PurePosixPath:
    """A stored path, refused if it could escape the restore directory."""
    path = PurePosixPath(rel)
    if (
        not rel
        or "\\" in rel
        or path.is_absolute()
        or any(part in {"", ".", ".."} for part in path.parts)
        or path.suffix != SUFFIX
    ):
        msg = f"refusing to restore knowledge file with unsafe path '{rel}'"
        raise SnapshotError(msg)
    return path


def write_files(files: Mapping[str, str], root: Path) -> Path:
    """Write snapshot files under ``root`` (which must not exist or hold exactly these files)."""
    paths = {rel: _safe_relative(rel) for rel in files}
    if root.exists():
        if root.is_dir() and knowledge_files(root) == dict(files):
            return root  # restored before: identical content, reuse it
        msg = f"cannot restore knowledge into '{root}': it exists with other content"
        raise SnapshotError(msg)
    root.mkdir(parents=True, mode=0o700)
    for rel, text in files.items():
        target = root.joinpath(*paths[rel].parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return root


def restore(
    files: Mapping[str, str],
    directory: Path | str,
    *,
    expected_hash: str,
    name: str = "knowledge",
) -> Knowledge:
    """Write a snapshot into ``directory`` and load it; raise unless it has ``expected_hash``.

    The files go to ``directory/<name>-<hash[:12]>``; the returned knowledge's ``root`` is there.
    """
    root = write_files(files, Path(directory) / f"{_slug(name)}-{expected_hash[:12]}")
    knowledge = load_knowledge(root)
    if knowledge.hash != expected_hash:
        msg = (
            f"restored knowledge has hash {knowledge.hash[:12]}, not {expected_hash[:12]}: "
            "the snapshot does not reproduce the knowledge it was stored for"
        )
        raise SnapshotError(msg)
    return knowledge


def verified_files(knowledge: Knowledge) -> dict[str, str]:
    """The text snapshot of a loaded knowledge, checked to parse to the same ``Knowledge.hash``.

    The files on disk may have changed since ``knowledge`` was loaded (an editor saved while
    the TUI still uses the last good load); such a snapshot would not re-explain the stored
    decision, so it is refused.
    """
    files = knowledge_files(knowledge.root)
    with tempfile.TemporaryDirectory(prefix="needlewise-snapshot-") as tmp:
        try:
            restore(files, tmp, expected_hash=knowledge.hash, name=knowledge.name)
        except (SnapshotError, EngineError) as exc:
            msg = (
                f"the knowledge files under '{knowledge.root}' no longer match the loaded "
                f"knowledge {knowledge.name} {knowledge.version} ({knowledge.hash[:12]}); "
                "reload the knowledge and assess again before saving"
            )
            raise SnapshotError(msg) from exc
    return files


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "knowledge"


def replay(
    knowledge: Knowledge,
    case_data: Mapping[str, Any],
    consultation_date: dt.date,
    *,
    file: str = "<stored case>",
) -> Trace:
    """Re-assess a stored case with (restored) knowledge on its original consultation date.

    Raises ``CaseError`` if the stored case no longer validates against this knowledge.
    """
    assessor = Assessor(compile_knowledge(knowledge))
    try:
        case = case_from_data(knowledge, dict(case_data), file=file, today=consultation_date)
        return assessor.trace(case)
    finally:
        assessor.close()


def differences(stored: Mapping[str, Any], replayed: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level keys of the assessment contract whose content differs (``engine`` ignored)."""
    old = _normal(stored)
    new = _normal(replayed)
    keys = sorted((set(old) | set(new)) - IGNORED_FOR_REPLAY)
    return tuple(k for k in keys if old.get(k) != new.get(k))


def _normal(data: Mapping[str, Any]) -> dict[str, Any]:
    # A stored assessment went through JSON; pass the replayed one through JSON too.
    return dict(json.loads(json.dumps(dict(data), default=str)))
