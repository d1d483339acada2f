"""Client records: an append-only SQLite store of clients and their consultations.

Every saved consultation keeps the case as entered, the full assessment (``assessment/v1``
JSON), the knowledge name/version/hash, the practitioner and the time. The database enforces
append-only itself (triggers): a consultation is never rewritten or deleted; a correction is a
new consultation that ``corrects`` the earlier one. The only change a consultation can undergo is
an *erasure*: recording a row in ``erasures`` blanks the client's identity and every
consultation's content in the same transaction, keeping the fact that they existed, when, and
with which knowledge. The knowledge's text is stored once per hash (``engine/snapshot.py``) so
that an old consultation can be re-assessed and re-explained exactly as it was decided.

Stdlib ``sqlite3`` only; nothing is sent anywhere; logs carry ids, never names or case content.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import os
import sqlite3
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from engine.assessment import Trace
from engine.errors import EngineError
from engine.knowledge import Knowledge
from engine.result import Assessment
from engine.snapshot import (
    differences,
    replay,
    restore,
    snapshot_hash,
    verified_files,
)

logger = logging.getLogger(__name__)

APPLICATION_ID = 0x4E57_5243
"""``PRAGMA application_id`` of a needlewise records database ("NWRC")."""
ERASED_DECISION = "ERASED"
"""The ``decision`` shown for a consultation whose content was erased."""
EXPORT_FORMAT = "needlewise-client-export/v1"
"""The ``format`` of :meth:`RecordStore.export_client` output."""
DB_FILE_MODE = 0o600
DB_DIR_MODE = 0o700


# --- errors ---------------------------------------------------------------------------------
class RecordError(EngineError):
    """The records store could not do what was asked."""


class UnknownRecordError(RecordError):
    """No client, consultation or knowledge snapshot with that id."""


class ErasedClientError(RecordError):
    """The client was erased: their records can no longer be changed or used."""


class AppendOnlyError(RecordError):
    """A write would rewrite or delete stored history."""


class DatabaseLockedError(RecordError):
    """Another process holds the database lock for too long."""


class CorruptDatabaseError(RecordError):
    """The database file is damaged."""


class NotNeedlewiseDatabaseError(RecordError):
    """The file is not a needlewise records database."""


class NewerSchemaError(RecordError):
    """The database was written by a newer needlewise."""


class InsecureDatabaseError(RecordError):
    """The database file is readable by others and could not be made private."""


# --- schema ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """One schema step: SQL applied in one transaction, then ``user_version = version``."""

    version: int
    description: str
    sql: str


_V1 = f"""
PRAGMA application_id = {APPLICATION_ID};
CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT,
    date_of_birth TEXT,
    reference TEXT,
    notes TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE knowledge_snapshots (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    files TEXT NOT NULL,
    files_sha256 TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE consultations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    saved_at TEXT NOT NULL,
    consultation_date TEXT NOT NULL,
    practitioner TEXT NOT NULL,
    note TEXT,
    corrects INTEGER REFERENCES consultations(id),
    case_data TEXT,
    assessment TEXT,
    decision TEXT,
    provisional INTEGER,
    knowledge_name TEXT NOT NULL,
    knowledge_version TEXT NOT NULL,
    knowledge_hash TEXT NOT NULL REFERENCES knowledge_snapshots(hash)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    client_id INTEGER,
    consultation_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
"""

_V2 = """
ALTER TABLE clients ADD COLUMN erased_at TEXT;
ALTER TABLE consultations ADD COLUMN erased_at TEXT;
CREATE TABLE erasures (
    client_id INTEGER PRIMARY KEY REFERENCES clients(id),
    at TEXT NOT NULL,
    by TEXT NOT NULL CHECK (length(trim(by)) > 0),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0)
);
-- Recording an erasure IS the erasure: identity and content are blanked in the same statement.
CREATE TRIGGER erasure_blanks AFTER INSERT ON erasures
BEGIN
    UPDATE consultations
       SET note = NULL, case_data = NULL, assessment = NULL, decision = NULL,
           provisional = NULL, erased_at = NEW.at
     WHERE client_id = NEW.client_id;
    UPDATE clients
       SET name = NULL, date_of_birth = NULL, reference = NULL, notes = NULL,
           erased_at = NEW.at
     WHERE id = NEW.client_id;
END;
CREATE TRIGGER consultations_no_delete BEFORE DELETE ON consultations
BEGIN
    SELECT RAISE(ABORT, 'append-only: consultations are never deleted (an erasure blanks them)');
END;
CREATE TRIGGER consultations_no_rewrite BEFORE UPDATE ON consultations
WHEN NOT EXISTS (SELECT 1 FROM erasures e WHERE e.client_id = OLD.client_id)
BEGIN
    SELECT RAISE(ABORT, 'append-only: a consultation is never rewritten; save a correction');
END;
CREATE TRIGGER consultations_erasure_blanks_only BEFORE UPDATE ON consultations
WHEN EXISTS (SELECT 1 FROM erasures e WHERE e.client_id = OLD.client_id) AND (
     NEW.id IS NOT OLD.id OR NEW.client_id IS NOT OLD.client_id
  OR NEW.saved_at IS NOT OLD.saved_at OR NEW.consultation_date IS NOT OLD.consultation_date
  OR NEW.practitioner IS NOT OLD.practitioner OR NEW.corrects IS NOT OLD.corrects
  OR NEW.knowledge_name IS NOT OLD.knowledge_name
  OR NEW.knowledge_version IS NOT OLD.knowledge_version
  OR NEW.knowledge_hash IS NOT OLD.knowledge_hash
  OR NEW.note IS NOT NULL OR NEW.case_data IS NOT NULL OR NEW.assessment IS NOT NULL
  OR NEW.decision IS NOT NULL OR NEW.provisional IS NOT NULL
  OR NEW.erased_at IS NOT (SELECT e.at FROM erasures e WHERE e.client_id = OLD.client_id))
BEGIN
    SELECT RAISE(ABORT, 'append-only: an erasure may only blank the content of a consultation');
END;
CREATE TRIGGER consultations_insert_checks BEFORE INSERT ON consultations
WHEN EXISTS (SELECT 1 FROM erasures e WHERE e.client_id = NEW.client_id)
  OR NEW.erased_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'erased: no consultation can be added for an erased client');
END;
CREATE TRIGGER consultations_correction_same_client BEFORE INSERT ON consultations
WHEN NEW.corrects IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM consultations c WHERE c.id = NEW.corrects AND c.client_id = NEW.client_id)
BEGIN
    SELECT RAISE(ABORT, 'a correction must point at an earlier consultation of the same client');
END;
CREATE TRIGGER clients_no_delete BEFORE DELETE ON clients
BEGIN
    SELECT RAISE(ABORT, 'append-only: clients are never deleted (an erasure is a tombstone)');
END;
CREATE TRIGGER clients_erased_frozen BEFORE UPDATE ON clients
WHEN OLD.erased_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'erased: an erased client cannot be changed');
END;
CREATE TRIGGER clients_fixed_columns BEFORE UPDATE ON clients
WHEN NEW.id IS NOT OLD.id OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'append-only: a client''s id and creation time never change');
END;
CREATE TRIGGER clients_erasure_recorded BEFORE UPDATE ON clients
WHEN NEW.erased_at IS NOT NULL AND (
    NOT EXISTS (SELECT 1 FROM erasures e WHERE e.client_id = OLD.id)
    OR NEW.name IS NOT NULL OR NEW.date_of_birth IS NOT NULL
    OR NEW.reference IS NOT NULL OR NEW.notes IS NOT NULL)
BEGIN
    SELECT RAISE(ABORT, 'append-only: a client is erased only by recording an erasure');
END;
CREATE TRIGGER erasures_no_update BEFORE UPDATE ON erasures
BEGIN SELECT RAISE(ABORT, 'append-only: erasure records never change'); END;
CREATE TRIGGER erasures_no_delete BEFORE DELETE ON erasures
BEGIN SELECT RAISE(ABORT, 'append-only: erasure records are never deleted'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'append-only: the audit log never changes'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'append-only: the audit log is never deleted'); END;
CREATE TRIGGER snapshots_no_update BEFORE UPDATE ON knowledge_snapshots
BEGIN SELECT RAISE(ABORT, 'append-only: a knowledge snapshot never changes'); END;
CREATE TRIGGER snapshots_no_delete BEFORE DELETE ON knowledge_snapshots
BEGIN SELECT RAISE(ABORT, 'append-only: knowledge snapshots are never deleted'); END;
"""

_V3 = """
CREATE INDEX consultations_by_client ON consultations(client_id, saved_at);
CREATE INDEX consultations_by_knowledge ON consultations(knowledge_hash);
CREATE INDEX audit_by_client ON audit(client_id);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, description="clients, consultations, snapshots, audit", sql=_V1),
    Migration(version=2, description="append-only triggers and audited erasure", sql=_V2),
    Migration(version=3, description="indexes for per-client lookups", sql=_V3),
)
"""Every schema step in order; a database at ``user_version`` n gets the steps after n."""
SCHEMA_VERSION = MIGRATIONS[-1].version


def statements(sql: str) -> list[str]:
    """Split a migration into complete statements (trigger bodies stay whole)."""
    out: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        msg = f"incomplete SQL statement in migration: {buffer.strip()[:60]}"
        raise RecordError(msg)
    return out


def migrate(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Apply the migrations after the database's ``user_version`` up to ``target``.

    Each step runs in its own ``BEGIN IMMEDIATE`` transaction and re-reads the version inside
    it, so two processes opening a new database at once do not apply a step twice. The
    connection must be in autocommit mode (``isolation_level=None``). Returns (from, to).
    """
    start = _user_version(connection)
    for migration in MIGRATIONS:
        if migration.version > target:
            break
        connection.execute("BEGIN IMMEDIATE")
        try:
            if _user_version(connection) >= migration.version:
                connection.execute("COMMIT")
                continue
            for statement in statements(migration.sql):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {int(migration.version)}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        logger.info("records schema migrated to %d (%s)", migration.version, migration.description)
    return start, _user_version(connection)


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


# --- records --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRecord:
    """A client. After an erasure the identity fields are empty and ``erased_at`` is set."""

    id: int
    name: str
    date_of_birth: dt.date | None
    reference: str
    notes: str
    created_at: str
    """UTC, ISO 8601."""
    erased_at: str | None
    """UTC, ISO 8601, when the client was erased."""
    consultation_count: int = 0
    last_saved_at: str | None = None
    """When the newest consultation was saved (UTC, ISO 8601)."""

    @property
    def erased(self) -> bool:
        """Whether the client was erased."""
        return self.erased_at is not None

    @property
    def display_name(self) -> str:
        """The name, or a placeholder for an erased client."""
        return f"(erased client #{self.id})" if self.erased else self.name

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "name": None if self.erased else self.name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "reference": None if self.erased else self.reference,
            "notes": None if self.erased else self.notes,
            "created_at": self.created_at,
            "erased_at": self.erased_at,
            "consultation_count": self.consultation_count,
            "last_saved_at": self.last_saved_at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationRecord:
    """A stored consultation, exactly as saved (or blanked, after an erasure)."""

    id: int
    client_id: int
    saved_at: str
    """UTC, ISO 8601."""
    practitioner: str
    note: str
    corrects: int | None
    """The earlier consultation this one corrects."""
    case_data: Mapping[str, Any]
    """The case as entered (empty after an erasure)."""
    assessment: Mapping[str, Any]
    """The ``assessment/v1`` JSON with its justification (empty after an erasure)."""
    knowledge_name: str
    knowledge_version: str
    knowledge_hash: str
    decision: str
    """The stored decision, or ``ERASED``."""
    consultation_date: str = ""
    """ISO date the case was assessed for (day windows use it)."""
    provisional: bool = False
    erased_at: str | None = None

    @property
    def erased(self) -> bool:
        """Whether the content was erased."""
        return self.erased_at is not None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "saved_at": self.saved_at,
            "consultation_date": self.consultation_date,
            "practitioner": self.practitioner,
            "note": None if self.erased else self.note,
            "corrects": self.corrects,
            "decision": self.decision,
            "provisional": self.provisional,
            "knowledge": {
                "name": self.knowledge_name,
                "version": self.knowledge_version,
                "hash": self.knowledge_hash,
            },
            "erased_at": self.erased_at,
            "case": None if self.erased else dict(self.case_data),
            "assessment": None if self.erased else dict(self.assessment),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One write to the store: who, when, what (ids only, never client content)."""

    id: int
    at: str
    actor: str
    action: str
    """``client.added`` | ``client.updated`` | ``client.exported`` | ``client.erased`` |
    ``consultation.saved`` | ``knowledge.stored`` | ``schema.created`` | ``schema.migrated``."""
    client_id: int | None
    consultation_id: int | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "client_id": self.client_id,
            "consultation_id": self.consultation_id,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reassessment:
    """A stored consultation assessed again with its own knowledge snapshot."""

    consultation: ConsultationRecord
    knowledge: Knowledge
    """The restored knowledge (as it was when the consultation was decided)."""
    trace: Trace
    differences: tuple[str, ...] = field(default=())
    """Assessment contract keys whose content differs from the stored assessment."""

    @property
    def assessment(self) -> Assessment:
        """The replayed assessment."""
        return self.trace.assessment

    @property
    def same_decision(self) -> bool:
        """Whether the replay reached the stored decision (and provisional flag)."""
        return (
            self.assessment.decision == self.consultation.decision
            and self.assessment.provisional == self.consultation.provisional
        )


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP = _Keep.KEEP
"""Default of :meth:`RecordStore.update_client` arguments: leave the field as it is."""


def default_db_path() -> Path:
    """``$NEEDLEWISE_DB``, else ``$XDG_DATA_HOME/needlewise/records.sqlite3``.

    Without ``XDG_DATA_HOME`` (or with a relative one, which the XDG spec says to ignore) the
    data directory is ``~/.local/share``.
    """
    explicit = os.environ.get("NEEDLEWISE_DB", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return base / "needlewise" / "records.sqlite3"


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for search ("Zoë" and "ZOE" both fold to "zoe")."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _secure_file(path: Path) -> None:
    """Create the file 0600 (parents 0700) before SQLite opens it; fix or refuse a loose mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=DB_DIR_MODE)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, DB_FILE_MODE)
        except FileExistsError:
            pass  # another process created it first; its mode is checked below
        else:
            os.close(fd)
            path.chmod(DB_FILE_MODE)  # exactly 0600, whatever the umask
    if sys.platform == "win32":  # pragma: no cover - POSIX permission bits only
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        try:
            path.chmod(DB_FILE_MODE)
        except OSError as exc:
            msg = (
                f"records database '{path}' is readable by others (mode {mode:04o}) and its "
                f"mode could not be changed to 0600: {exc}"
            )
            raise InsecureDatabaseError(msg) from exc
        logger.warning("records database %s had mode %04o; changed it to 0600", path, mode)


def _translate(error: sqlite3.Error, where: str) -> RecordError:
    text = str(error)
    lowered = text.lower()
    if "append-only" in lowered:
        return AppendOnlyError(text)
    if lowered.startswith("erased"):
        return ErasedClientError(text)
    if "locked" in lowered or "busy" in lowered:
        return DatabaseLockedError(
            f"records database {where} is locked by another program; try again ({text})"
        )
    if "not a database" in lowered:
        return NotNeedlewiseDatabaseError(f"{where} is not a needlewise records database ({text})")
    if "malformed" in lowered or "corrupt" in lowered:
        return CorruptDatabaseError(
            f"records database {where} is damaged ({text}); restore it from a backup"
        )
    return RecordError(f"records database {where}: {text}")


def _dumps(value: Any, what: str) -> str:  # noqa: ANN401
    def default(item: object) -> Any:  # noqa: ANN401
        if isinstance(item, (dt.date, dt.datetime)):
            return item.isoformat()
        if isinstance(item, (set, frozenset)):
            return sorted(item, key=str)
        msg = f"{type(item).__name__} is not JSON-serialisable"
        raise TypeError(msg)

    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=default)
    except (TypeError, ValueError) as exc:
        msg = f"{what} cannot be stored: {exc}"
        raise RecordError(msg) from exc


def _text(value: str, what: str, *, limit: int, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        msg = f"{what} is required"
        raise RecordError(msg)
    if len(text) > limit:
        msg = f"{what} is longer than {limit} characters"
        raise RecordError(msg)
    return text


class RecordStore:
    """The client records database (SQLite, file mode 0600, append-only by trigger).

    Args:
        path: the database file (created if missing), or ``":memory:"`` for tests.
        timeout: seconds to wait for another process's lock before DatabaseLockedError.
        clock: returns the current time (tests pass a fixed clock); UTC is stored.

    Thread-safe: one connection guarded by a lock, usable from worker threads.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        timeout: float = 5.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        memory = str(path) == ":memory:"
        self.path: Path | None = None if memory else Path(path).expanduser()
        self._where = ":memory:" if self.path is None else f"'{self.path}'"
        if self.path is not None:
            _secure_file(self.path)
        try:
            self._conn = sqlite3.connect(
                ":memory:" if self.path is None else self.path,
                timeout=timeout,
                isolation_level=None,  # explicit BEGIN/COMMIT only
                check_same_thread=False,  # guarded by self._lock
            )
        except sqlite3.Error as exc:
            raise _translate(exc, self._where) from exc
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("nw_fold", 1, fold, deterministic=True)
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open(self) -> None:
        with self._errors():
            conn = self._conn
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = _user_version(conn)
            objects = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
            if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or objects != 0):
                msg = f"{self._where} is not a needlewise records database"
                raise NotNeedlewiseDatabaseError(msg)
            if version > SCHEMA_VERSION:
                msg = (
                    f"records database {self._where} has schema {version}, newer than this "
                    f"needlewise understands ({SCHEMA_VERSION}); upgrade needlewise"
                )
                raise NewerSchemaError(msg)
            # Zero freed content (erasure), keep the journal a deleted file (no WAL copies of
            # old pages), keep VACUUM's scratch copy in memory, and trust no SQL in the schema.
            for pragma in (
                "PRAGMA foreign_keys = ON",
                "PRAGMA secure_delete = ON",
                "PRAGMA journal_mode = DELETE",
                "PRAGMA temp_store = MEMORY",
                "PRAGMA trusted_schema = OFF",
            ):
                conn.execute(pragma).fetchall()
            before, after = migrate(conn)
        if before != after:
            action = "schema.created" if before == 0 else "schema.migrated"
            with self._transaction() as conn:
                self._audit(conn, "needlewise", action, detail=f"schema {before} -> {after}")

    # --- plumbing -----------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _translate(exc, self._where) from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            yield self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors():
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _now(self) -> str:
        return self._clock().astimezone(dt.UTC).isoformat(timespec="seconds")

    def _audit(
        self,
        conn: sqlite3.Connection,
        actor: str,
        action: str,
        *,
        client_id: int | None = None,
        consultation_id: int | None = None,
        detail: str = "",
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, actor, action, client_id, consultation_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (self._now(), actor.strip() or "unknown", action, client_id, consultation_id, detail),
        )

    @property
    def schema_version(self) -> int:
        """The database's schema version (``PRAGMA user_version``)."""
        with self._read() as conn:
            return _user_version(conn)

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        """Use as a context manager; closes on exit."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the database."""
        self.close()

    # --- clients ------------------------------------------------------------------------
    def add_client(
        self,
        name: str,
        *,
        date_of_birth: dt.date | None = None,
        reference: str = "",
        notes: str = "",
        by: str = "",
    ) -> ClientRecord:
        """Add a client; ``by`` (who added it) goes to the audit log."""
        name = _text(name, "client name", limit=200)
        reference = _text(reference, "reference", limit=100, required=False)
        notes = _text(notes, "notes", limit=20_000, required=False)
        dob = _birth_date(date_of_birth)
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO clients (name, date_of_birth, reference, notes, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, dob, reference, notes, self._now()),
            )
            client_id = int(cursor.lastrowid or 0)
            self._audit(conn, by, "client.added", client_id=client_id)
        logger.info("client %d added", client_id)
        return self.client(client_id)

    def update_client(
        self,
        client_id: int,
        *,
        by: str,
        name: str | _Keep = KEEP,
        date_of_birth: dt.date | _Keep | None = KEEP,
        reference: str | _Keep = KEEP,
        notes: str | _Keep = KEEP,
    ) -> ClientRecord:
        """Edit a client's identity or notes in place; the audit log names the fields changed."""
        changes: dict[str, Any] = {}
        if not isinstance(name, _Keep):
            changes["name"] = _text(name, "client name", limit=200)
        if not isinstance(date_of_birth, _Keep):
            changes["date_of_birth"] = _birth_date(date_of_birth)
        if not isinstance(reference, _Keep):
            changes["reference"] = _text(reference, "reference", limit=100, required=False)
        if not isinstance(notes, _Keep):
            changes["notes"] = _text(notes, "notes", limit=20_000, required=False)
        with self._transaction() as conn:
            self._live_client(conn, client_id)
            for column, value in changes.items():  # column names come from the code above
                conn.execute(f"UPDATE clients SET {column} = ? WHERE id = ?", (value, client_id))  # noqa: S608
            if changes:
                self._audit(
                    conn,
                    by,
                    "client.updated",
                    client_id=client_id,
                    detail="fields: " + ", ".join(changes),
                )
        return self.client(client_id)

    def clients(self, search: str = "", *, include_erased: bool = False) -> list[ClientRecord]:
        """Clients whose name or reference contains ``search`` (case- and accent-insensitive)."""
        needle = fold(search.strip())
        with self._read() as conn:
            rows = conn.execute(
                f"{_CLIENT_SELECT} WHERE (? OR c.erased_at IS NULL) AND (? = ''"
                " OR instr(nw_fold(c.name), ?) > 0 OR instr(nw_fold(c.reference), ?) > 0)"
                " GROUP BY c.id ORDER BY c.erased_at IS NOT NULL, nw_fold(c.name), c.id",
                (include_erased, needle, needle, needle),
            ).fetchall()
        return [_client(row) for row in rows]

    def client(self, client_id: int) -> ClientRecord:
        """One client (erased clients too: ``erased_at`` is set and the identity is empty)."""
        with self._read() as conn:
            row = conn.execute(
                f"{_CLIENT_SELECT} WHERE c.id = ? GROUP BY c.id", (client_id,)
            ).fetchone()
        if row is None:
            msg = f"no client #{client_id}"
            raise UnknownRecordError(msg)
        return _client(row)

    def _live_client(self, conn: sqlite3.Connection, client_id: int) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
        if row is None:
            msg = f"no client #{client_id}"
            raise UnknownRecordError(msg)
        if row["erased_at"] is not None:
            msg = f"client #{client_id} was erased on {row['erased_at']}"
            raise ErasedClientError(msg)
        return row  # type: ignore[no-any-return]

    # --- consultations ------------------------------------------------------------------
    def save_consultation(
        self,
        client_id: int,
        *,
        case_data: Mapping[str, Any],
        assessment: Assessment,
        knowledge: Knowledge,
        practitioner: str,
        note: str = "",
        corrects: int | None = None,
    ) -> ConsultationRecord:
        """Append a consultation: the case as entered, the full assessment, the knowledge.

        Clearances and overrides are part of ``case_data`` (and of the assessment). A
        correction is a new consultation with ``corrects`` naming the earlier one; nothing is
        ever rewritten. The knowledge's text is stored once per ``Knowledge.hash``, verified to
        reproduce that hash.
        """
        practitioner = _text(practitioner, "practitioner", limit=200)
        note = _text(note, "note", limit=20_000, required=False)
        stamp = assessment.knowledge
        if stamp.hash != knowledge.hash:
            msg = (
                f"the assessment was made with knowledge {stamp.hash[:12]}, "
                f"not with the knowledge given ({knowledge.hash[:12]})"
            )
            raise RecordError(msg)
        date = assessment.consultation_date.isoformat()
        entered = case_data.get("consultation_date")
        if entered is not None and str(entered)[:10] != date:
            msg = f"case date {entered} differs from the assessment's consultation date {date}"
            raise RecordError(msg)
        case_json = _dumps(dict(case_data), "the case")
        assessment_json = _dumps(assessment.to_json(), "the assessment")
        with self._read() as conn:
            self._live_client(conn, client_id)
            if corrects is not None:
                self._correctable(conn, client_id, corrects)
            stored = conn.execute(
                "SELECT 1 FROM knowledge_snapshots WHERE hash = ?", (knowledge.hash,)
            ).fetchone()
        # Reading and verifying the knowledge text loads it once: done outside the lock.
        files = None if stored else verified_files(knowledge)
        with self._transaction() as conn:
            self._live_client(conn, client_id)
            if files is not None:
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO knowledge_snapshots"
                    " (hash, name, version, files, files_sha256, stored_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        knowledge.hash,
                        knowledge.name,
                        knowledge.version,
                        _dumps(files, "the knowledge snapshot"),
                        snapshot_hash(files),
                        self._now(),
                    ),
                ).rowcount
                if inserted:
                    self._audit(
                        conn,
                        practitioner,
                        "knowledge.stored",
                        detail=f"{knowledge.name} {knowledge.version} {knowledge.hash[:12]}, "
                        f"{len(files)} files",
                    )
            cursor = conn.execute(
                "INSERT INTO consultations (client_id, saved_at, consultation_date, practitioner,"
                " note, corrects, case_data, assessment, decision, provisional, knowledge_name,"
                " knowledge_version, knowledge_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    client_id,
                    self._now(),
                    date,
                    practitioner,
                    note,
                    corrects,
                    case_json,
                    assessment_json,
                    assessment.decision,
                    int(assessment.provisional),
                    stamp.name,
                    stamp.version,
                    stamp.hash,
                ),
            )
            consultation_id = int(cursor.lastrowid or 0)
            detail = f"knowledge {stamp.name} {stamp.version} {stamp.hash[:12]}"
            if corrects is not None:
                detail += f"; corrects #{corrects}"
            self._audit(
                conn,
                practitioner,
                "consultation.saved",
                client_id=client_id,
                consultation_id=consultation_id,
                detail=detail,
            )
        logger.info("consultation %d saved for client %d", consultation_id, client_id)
        return self.consultation(consultation_id)

    def _correctable(self, conn: sqlite3.Connection, client_id: int, corrects: int) -> None:
        row = conn.execute("SELECT client_id FROM consultations WHERE id = ?", (corrects,))
        found = row.fetchone()
        if found is None:
            msg = f"no consultation #{corrects} to correct"
            raise UnknownRecordError(msg)
        if int(found["client_id"]) != client_id:
            msg = f"consultation #{corrects} belongs to another client"
            raise RecordError(msg)

    def consultations(self, client_id: int) -> list[ConsultationRecord]:
        """A client's consultations, newest first (erased ones blanked)."""
        self.client(client_id)  # unknown id -> UnknownRecordError
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM consultations WHERE client_id = ? ORDER BY saved_at DESC, id DESC",
                (client_id,),
            ).fetchall()
        return [_consultation(row) for row in rows]

    def consultation(self, consultation_id: int) -> ConsultationRecord:
        """One consultation."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT * FROM consultations WHERE id = ?", (consultation_id,)
            ).fetchone()
        if row is None:
            msg = f"no consultation #{consultation_id}"
            raise UnknownRecordError(msg)
        return _consultation(row)

    def corrections(self, consultation_id: int) -> list[ConsultationRecord]:
        """Consultations that correct this one, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT * FROM consultations WHERE corrects = ? ORDER BY saved_at DESC, id DESC",
                (consultation_id,),
            ).fetchall()
        return [_consultation(row) for row in rows]

    # --- knowledge snapshots ------------------------------------------------------------
    def knowledge_hashes(self) -> list[str]:
        """Hashes of every stored knowledge snapshot, oldest first."""
        with self._read() as conn:
            rows = conn.execute("SELECT hash FROM knowledge_snapshots ORDER BY stored_at, hash")
            return [str(r["hash"]) for r in rows.fetchall()]

    def snapshot_files(self, knowledge_hash: str) -> dict[str, str]:
        """The stored knowledge text for a hash, checked against its stored text hash."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT files, files_sha256 FROM knowledge_snapshots WHERE hash = ?",
                (knowledge_hash,),
            ).fetchone()
        if row is None:
            msg = f"no knowledge snapshot {knowledge_hash[:12]} in the records database"
            raise UnknownRecordError(msg)
        files = {str(k): str(v) for k, v in json.loads(row["files"]).items()}
        if snapshot_hash(files) != row["files_sha256"]:
            msg = f"knowledge snapshot {knowledge_hash[:12]} is damaged (text hash mismatch)"
            raise CorruptDatabaseError(msg)
        return files

    def load_snapshot(self, knowledge_hash: str, directory: Path | str) -> Knowledge:
        """Restore a snapshot into ``directory`` and load it (verified to have that hash)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT name FROM knowledge_snapshots WHERE hash = ?", (knowledge_hash,)
            ).fetchone()
        name = str(row["name"]) if row is not None else "knowledge"
        return restore(
            self.snapshot_files(knowledge_hash),
            directory,
            expected_hash=knowledge_hash,
            name=name,
        )

    def knowledge_snapshot(self, knowledge_hash: str, directory: Path) -> Path:
        """Write the stored knowledge files into ``directory``; return the root to load."""
        return self.load_snapshot(knowledge_hash, directory).root

    def reassess(self, consultation_id: int, directory: Path | str) -> Reassessment:
        """Re-assess a stored case with its own knowledge snapshot, on its consultation date.

        ``directory`` receives the restored knowledge. The result says whether the stored
        decision is reproduced and which parts of the assessment differ, if any.
        """
        record = self.consultation(consultation_id)
        if record.erased:
            msg = f"consultation #{consultation_id} was erased on {record.erased_at}"
            raise ErasedClientError(msg)
        knowledge = self.load_snapshot(record.knowledge_hash, directory)
        trace = replay(
            knowledge,
            record.case_data,
            dt.date.fromisoformat(record.consultation_date),
            file=f"consultation #{consultation_id}",
        )
        return Reassessment(
            consultation=record,
            knowledge=knowledge,
            trace=trace,
            differences=differences(record.assessment, trace.assessment.to_json()),
        )

    # --- erasure, audit, export ---------------------------------------------------------
    def erase_client(self, client_id: int, *, by: str, reason: str) -> None:
        """Erase a client on request: an audited tombstone.

        The client's identity and every consultation's case, assessment, decision and note
        are blanked; the rows stay, so the fact that the client and N consultations existed,
        when, and with which knowledge, is kept, with the erasure (who, when, why).
        """
        by = _text(by, "who erases (by)", limit=200)
        reason = _text(reason, "reason for the erasure", limit=2_000)
        with self._transaction() as conn:
            self._live_client(conn, client_id)
            count = int(
                conn.execute(
                    "SELECT count(*) FROM consultations WHERE client_id = ?", (client_id,)
                ).fetchone()[0]
            )
            conn.execute(
                "INSERT INTO erasures (client_id, at, by, reason) VALUES (?, ?, ?, ?)",
                (client_id, self._now(), by, reason),
            )
            self._audit(
                conn,
                by,
                "client.erased",
                client_id=client_id,
                detail=f"{count} consultation(s) blanked; reason: {reason}",
            )
        logger.info("client %d erased", client_id)
        self._compact()

    def _compact(self) -> None:
        """Rebuild the file so that no freed page keeps erased text (secure_delete zeroes too)."""
        try:
            with self._read() as conn:
                conn.execute("VACUUM")
        except DatabaseLockedError:
            logger.warning("records database busy: VACUUM after an erasure postponed")

    def erasure(self, client_id: int) -> dict[str, str] | None:
        """The erasure record of a client (who, when, why), or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT at, by, reason FROM erasures WHERE client_id = ?", (client_id,)
            ).fetchone()
        return None if row is None else {"at": row["at"], "by": row["by"], "reason": row["reason"]}

    def audit(self, client_id: int | None = None) -> list[AuditEvent]:
        """Every write, oldest first (optionally only those about one client)."""
        with self._read() as conn:
            if client_id is None:
                rows = conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM audit WHERE client_id = ? ORDER BY id", (client_id,)
                ).fetchall()
        return [
            AuditEvent(
                id=int(r["id"]),
                at=str(r["at"]),
                actor=str(r["actor"]),
                action=str(r["action"]),
                client_id=r["client_id"],
                consultation_id=r["consultation_id"],
                detail=str(r["detail"]),
            )
            for r in rows
        ]

    def export_client(self, client_id: int, *, by: str = "") -> dict[str, Any]:
        """Everything stored about one client (a subject-access request), JSON-ready.

        The export itself is audited (``client.exported``).
        """
        client = self.client(client_id)
        consultations = self.consultations(client_id)
        with self._transaction() as conn:
            self._audit(conn, by, "client.exported", client_id=client_id)
        return {
            "format": EXPORT_FORMAT,
            "exported_at": self._now(),
            "schema_version": self.schema_version,
            "client": client.to_json(),
            "erasure": self.erasure(client_id),
            "consultations": [c.to_json() for c in consultations],
            "audit": [e.to_json() for e in self.audit(client_id)],
        }


_CLIENT_SELECT = (
    "SELECT c.*, count(k.id) AS consultation_count, max(k.saved_at) AS last_saved_at"
    " FROM clients c LEFT JOIN consultations k ON k.client_id = c.id"
)


def _birth_date(value: dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        msg = "date of birth must be a date, not a date and time"
        raise RecordError(msg)
    if value > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        msg = "date of birth is in the future"
        raise RecordError(msg)
    return value.isoformat()


def _client(row: sqlite3.Row) -> ClientRecord:
    dob = row["date_of_birth"]
    return ClientRecord(
        id=int(row["id"]),
        name=row["name"] or "",
        date_of_birth=dt.date.fromisoformat(dob) if dob else None,
        reference=row["reference"] or "",
        notes=row["notes"] or "",
        created_at=str(row["created_at"]),
        erased_at=row["erased_at"],
        consultation_count=int(row["consultation_count"] or 0),
        last_saved_at=row["last_saved_at"],
    )


def _consultation(row: sqlite3.Row) -> ConsultationRecord:
    erased = row["erased_at"] is not None
    return ConsultationRecord(
        id=int(row["id"]),
        client_id=int(row["client_id"]),
        saved_at=str(row["saved_at"]),
        consultation_date=str(row["consultation_date"]),
        practitioner=str(row["practitioner"]),
        note=row["note"] or "",
        corrects=row["corrects"],
        case_data={} if erased else json.loads(row["case_data"]),
        assessment={} if erased else json.loads(row["assessment"]),
        knowledge_name=str(row["knowledge_name"]),
        knowledge_version=str(row["knowledge_version"]),
        knowledge_hash=str(row["knowledge_hash"]),
        decision=ERASED_DECISION if erased else str(row["decision"]),
        provisional=bool(row["provisional"]),
        erased_at=row["erased_at"],
    )
