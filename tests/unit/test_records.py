"""engine/records.py: the append-only client records store."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from engine import Assessor, case_from_data, compile_knowledge, load_case, load_knowledge
from engine.explain import how_finding
from engine.knowledge import Knowledge
from engine.records import (
    APPLICATION_ID,
    ERASED_DECISION,
    EXPORT_FORMAT,
    KEEP,
    MIGRATIONS,
    SCHEMA_VERSION,
    AppendOnlyError,
    CorruptDatabaseError,
    DatabaseLockedError,
    ErasedClientError,
    InsecureDatabaseError,
    Migration,
    NewerSchemaError,
    NotNeedlewiseDatabaseError,
    RecordError,
    RecordStore,
    UnknownRecordError,
    default_db_path,
    fold,
    migrate,
    statements,
)
from engine.result import Assessment
from engine.snapshot import SnapshotError
from knowledge import DEFAULT_KNOWLEDGE

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"
MINI_CASE = ROOT / "tests" / "fixtures" / "cases" / "mini-complete.yaml"
NAME = "Zoë Quintessa-Marker"
REFERENCE = "REF-7731"
NOTES = "prefers-mornings-notemarker"
CASE_MARKER = "Zyxqvcaseglyph"
"""An unrecognised medication: in the stored case and assessment, never in the knowledge."""


class Clock:
    """A clock that advances one minute per reading."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


class Assessed:
    """The mini knowledge, one case (with a marker entry) and its assessment."""

    def __init__(self, knowledge: Knowledge, case_data: dict[str, Any]) -> None:
        self.knowledge = knowledge
        self.case_data = case_data
        assessor = Assessor(compile_knowledge(knowledge))
        try:
            self.assessment: Assessment = assessor.assess(case_from_data(knowledge, case_data))
        finally:
            assessor.close()


@pytest.fixture(scope="module")
def assessed() -> Assessed:
    knowledge = load_knowledge(MINI)
    raw = dict(load_case(knowledge, MINI_CASE).raw)
    client = dict(raw["client"])
    client["medications"] = [*client["medications"], {"name": CASE_MARKER, "status": "current"}]
    return Assessed(knowledge, {**raw, "client": client})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "needlewise" / "records.sqlite3"


@pytest.fixture
def store(db_path: Path):
    with RecordStore(db_path, clock=Clock()) as opened:
        yield opened


def _save(store: RecordStore, assessed: Assessed, client_id: int, **kwargs: Any):
    return store.save_consultation(
        client_id,
        case_data=assessed.case_data,
        assessment=assessed.assessment,
        knowledge=assessed.knowledge,
        practitioner=kwargs.pop("practitioner", "J. Doe RN"),
        **kwargs,
    )


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# --- location and file permissions ----------------------------------------------------------
def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEEDLEWISE_DB", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    home = tmp_path / "home" / ".local" / "share" / "needlewise" / "records.sqlite3"
    assert default_db_path() == home
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "needlewise" / "records.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_db_path() == home
    monkeypatch.setenv("NEEDLEWISE_DB", str(tmp_path / "explicit.db"))
    assert default_db_path() == tmp_path / "explicit.db"


def test_a_new_database_is_private(store: RecordStore, db_path: Path):
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    assert store.schema_version == SCHEMA_VERSION
    assert [e.action for e in store.audit()] == ["schema.created"]


def test_the_file_exists_0600_before_sqlite_opens_it(
    monkeypatch: pytest.MonkeyPatch, db_path: Path
):
    seen: list[int] = []
    real_connect = sqlite3.connect

    def connect(path: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        seen.append(stat.S_IMODE(Path(path).stat().st_mode))
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr("engine.records.sqlite3.connect", connect)
    RecordStore(db_path).close()
    assert seen == [0o600]


def test_a_loose_mode_on_an_existing_file_is_fixed(db_path: Path, caplog: pytest.LogCaptureFixture):
    RecordStore(db_path).close()
    db_path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="engine.records"):
        RecordStore(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert "changed it to 0600" in caplog.text


def test_a_loose_mode_that_cannot_be_fixed_is_refused(
    monkeypatch: pytest.MonkeyPatch, db_path: Path
):
    RecordStore(db_path).close()
    db_path.chmod(0o644)

    def refuse(_self: Path, _mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    with pytest.raises(InsecureDatabaseError, match="readable by others"):
        RecordStore(db_path)


def test_memory_database_for_tests():
    with RecordStore(":memory:") as store:
        client = store.add_client("Memory Client")
        assert store.client(client.id).name == "Memory Client"
        assert store.schema_version == SCHEMA_VERSION
        assert store.path is None


# --- clients ----------------------------------------------------------------------------------
def test_clients_are_searched_by_name_or_reference_ignoring_case_and_accents(
    store: RecordStore,
):
    zoe = store.add_client(NAME, reference=REFERENCE, date_of_birth=dt.date(1980, 2, 3))
    bob = store.add_client("Bob Stone", reference="B-1")
    assert zoe.date_of_birth == dt.date(1980, 2, 3)
    assert zoe.created_at == "2026-11-28T09:02:00+00:00"  # the 1st reading was the schema audit
    assert [c.id for c in store.clients()] == [bob.id, zoe.id]  # by name
    assert [c.id for c in store.clients("zoe")] == [zoe.id]
    assert [c.id for c in store.clients("QUINTESSA")] == [zoe.id]
    assert [c.id for c in store.clients("ref-77")] == [zoe.id]
    assert [c.id for c in store.clients("b-1")] == [bob.id]
    assert store.clients("nobody") == []
    assert fold("ZOË") == "zoe"


def test_client_input_is_checked(store: RecordStore):
    with pytest.raises(RecordError, match="client name is required"):
        store.add_client("   ")
    with pytest.raises(RecordError, match="in the future"):
        store.add_client(
            "Future", date_of_birth=dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
        )
    with pytest.raises(RecordError, match="longer than"):
        store.add_client("x" * 201)


def test_update_client_is_audited_without_values(store: RecordStore):
    client = store.add_client("Ann Smith", reference="A-1", by="reception")
    changed = store.update_client(client.id, by="J. Doe RN", name="Ann Smyth", notes="")
    assert changed.name == "Ann Smyth"
    assert changed.reference == "A-1"  # KEEP by default
    same = store.update_client(client.id, by="J. Doe RN", name=KEEP)
    assert same == changed
    event = store.audit()[-1]
    assert (event.action, event.actor, event.client_id) == ("client.updated", "J. Doe RN", 1)
    assert event.detail == "fields: name, notes"
    assert "Smyth" not in event.detail


def test_unknown_ids_are_record_errors(store: RecordStore, assessed: Assessed):
    for call in (
        lambda: store.client(99),
        lambda: store.consultation(99),
        lambda: store.consultations(99),
        lambda: store.erase_client(99, by="x", reason="y"),
        lambda: store.update_client(99, by="x", name="y"),
        lambda: _save(store, assessed, 99),
        lambda: store.knowledge_snapshot("0" * 64, Path("unused")),
    ):
        with pytest.raises(UnknownRecordError):
            call()


# --- consultations ----------------------------------------------------------------------------
def test_a_consultation_keeps_case_assessment_knowledge_time_and_practitioner(
    store: RecordStore, assessed: Assessed
):
    client = store.add_client(NAME)
    record = _save(store, assessed, client.id, note="first visit")
    expected_case = json.loads(json.dumps(assessed.case_data, default=str))
    assert record.case_data == expected_case
    assert record.case_data["consultation_date"] == "2026-11-28"
    assert record.assessment == json.loads(json.dumps(assessed.assessment.to_json()))
    assert "justification" in record.assessment
    assert record.decision == assessed.assessment.decision
    assert record.provisional == assessed.assessment.provisional
    assert record.consultation_date == "2026-11-28"
    assert (record.knowledge_name, record.knowledge_version) == ("microneedling", "0.1.0")
    assert record.knowledge_hash == assessed.knowledge.hash
    assert record.practitioner == "J. Doe RN"
    assert record.note == "first visit"
    assert re.fullmatch(r"2026-11-28T09:\d\d:00\+00:00", record.saved_at)
    assert record.saved_at > client.created_at  # from the store's (UTC) clock
    assert record.corrects is None
    assert store.consultation(record.id) == record


def test_the_knowledge_text_is_stored_once_per_hash(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    for _ in range(3):
        _save(store, assessed, client.id)
    assert store.knowledge_hashes() == [assessed.knowledge.hash]
    actions = [e.action for e in store.audit()]
    assert actions.count("knowledge.stored") == 1
    assert actions.count("consultation.saved") == 3


def test_consultations_are_newest_first(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    ids = [_save(store, assessed, client.id).id for _ in range(3)]
    assert [c.id for c in store.consultations(client.id)] == ids[::-1]
    listed = store.client(client.id)
    assert listed.consultation_count == 3
    assert listed.last_saved_at == store.consultation(ids[-1]).saved_at


def test_the_assessment_must_come_from_the_knowledge_given(
    store: RecordStore, assessed: Assessed, tmp_path: Path
):
    other = tmp_path / "other"
    shutil.copytree(MINI, other)
    manifest = other / "knowledge.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("0.1.0", "0.1.1"), encoding="utf-8"
    )
    client = store.add_client(NAME)
    with pytest.raises(RecordError, match="made with knowledge"):
        store.save_consultation(
            client.id,
            case_data=assessed.case_data,
            assessment=assessed.assessment,
            knowledge=load_knowledge(other),
            practitioner="x",
        )


def test_the_case_date_must_match_the_assessment(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    with pytest.raises(RecordError, match="differs from the assessment"):
        store.save_consultation(
            client.id,
            case_data={**assessed.case_data, "consultation_date": "2020-01-01"},
            assessment=assessed.assessment,
            knowledge=assessed.knowledge,
            practitioner="x",
        )


def test_case_data_must_be_json(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    with pytest.raises(RecordError, match="cannot be stored"):
        store.save_consultation(
            client.id,
            case_data={**assessed.case_data, "odd": object()},
            assessment=assessed.assessment,
            knowledge=assessed.knowledge,
            practitioner="x",
        )
    assert store.consultations(client.id) == []


def test_a_practitioner_is_required(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    with pytest.raises(RecordError, match="practitioner is required"):
        _save(store, assessed, client.id, practitioner=" ")


def test_knowledge_edited_since_it_was_loaded_is_not_stored(store: RecordStore, tmp_path: Path):
    root = tmp_path / "k"
    shutil.copytree(MINI, root)
    knowledge = load_knowledge(root)
    assessor = Assessor(compile_knowledge(knowledge))
    assessment = assessor.assess(load_case(knowledge, MINI_CASE))
    assessor.close()
    rules = root / "rules" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    (root / "rules" / "more.yaml").write_text("rules: []\n", encoding="utf-8")
    client = store.add_client(NAME)
    with pytest.raises(SnapshotError, match="no longer match"):
        store.save_consultation(
            client.id,
            case_data=load_case(knowledge, MINI_CASE).raw,
            assessment=assessment,
            knowledge=knowledge,
            practitioner="x",
        )
    assert store.consultations(client.id) == []
    assert store.knowledge_hashes() == []


def test_a_store_can_be_used_from_a_worker_thread(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    saved: list[int] = []
    worker = threading.Thread(target=lambda: saved.append(_save(store, assessed, client.id).id))
    worker.start()
    worker.join()
    assert [c.id for c in store.consultations(client.id)] == saved


# --- append-only ------------------------------------------------------------------------------
def test_the_api_has_no_way_to_rewrite_or_delete_a_consultation():
    public = [name for name in dir(RecordStore) if not name.startswith("_")]
    assert not [n for n in public if re.search(r"(update|edit|delete|remove)_consult", n)]
    assert not [n for n in public if re.search(r"delete|remove|drop|purge", n)]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consultations SET decision = 'PROCEED'",
        "UPDATE consultations SET case_data = '{}'",
        (
            "UPDATE consultations SET note = NULL, case_data = NULL, assessment = NULL,"
            " decision = NULL, provisional = NULL, erased_at = 'now'"
        ),
        "DELETE FROM consultations",
        "DELETE FROM clients",
        "UPDATE clients SET name = NULL, erased_at = 'now'",
        "UPDATE clients SET created_at = 'yesterday'",
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
        "UPDATE knowledge_snapshots SET files = '{}'",
        "DELETE FROM knowledge_snapshots",
    ],
)
def test_the_database_refuses_rewrites(
    sql: str, store: RecordStore, assessed: Assessed, db_path: Path
):
    client = store.add_client(NAME)
    record = _save(store, assessed, client.id)
    before = (store.client(client.id), store.consultations(client.id), store.audit())
    raw = _raw(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(sql)
    finally:
        raw.close()
    assert (store.client(client.id), store.consultations(client.id), store.audit()) == before
    assert store.consultation(record.id).decision == assessed.assessment.decision


def test_a_correction_is_a_new_consultation(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME)
    first = _save(store, assessed, client.id, note="typo in the plan")
    fixed = _save(store, assessed, client.id, corrects=first.id, note="correction")
    assert fixed.id != first.id
    assert fixed.corrects == first.id
    assert store.consultation(first.id) == first  # untouched
    assert [c.id for c in store.corrections(first.id)] == [fixed.id]
    assert [c.id for c in store.consultations(client.id)] == [fixed.id, first.id]
    assert store.audit()[-1].detail.endswith(f"corrects #{first.id}")


def test_a_correction_must_belong_to_the_same_client(
    store: RecordStore, assessed: Assessed, db_path: Path
):
    ann = store.add_client("Ann")
    bob = store.add_client("Bob")
    anns = _save(store, assessed, ann.id)
    with pytest.raises(RecordError, match="belongs to another client"):
        _save(store, assessed, bob.id, corrects=anns.id)
    with pytest.raises(UnknownRecordError, match="no consultation #42"):
        _save(store, assessed, bob.id, corrects=42)
    raw = _raw(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="same client"):
            raw.execute(
                "INSERT INTO consultations (client_id, saved_at, consultation_date, practitioner,"
                " corrects, case_data, assessment, decision, provisional, knowledge_name,"
                " knowledge_version, knowledge_hash) SELECT ?, saved_at, consultation_date,"
                " practitioner, id, case_data, assessment, decision, provisional, knowledge_name,"
                " knowledge_version, knowledge_hash FROM consultations WHERE id = ?",
                (bob.id, anns.id),
            )
    finally:
        raw.close()


# --- erasure ----------------------------------------------------------------------------------
def _erased_store(store: RecordStore, assessed: Assessed) -> tuple[int, list[int]]:
    client = store.add_client(NAME, reference=REFERENCE, notes=NOTES, date_of_birth=None)
    first = _save(store, assessed, client.id, note="note-marker-one")
    second = _save(store, assessed, client.id, corrects=first.id, note="note-marker-two")
    store.erase_client(client.id, by="DPO Jane", reason="subject request 2026-17")
    return client.id, [first.id, second.id]


def test_erasure_keeps_the_fact_but_not_the_identity_or_content(
    store: RecordStore, assessed: Assessed
):
    client_id, ids = _erased_store(store, assessed)
    client = store.client(client_id)
    assert client.erased
    assert (client.name, client.reference, client.notes, client.date_of_birth) == ("", "", "", None)
    assert client.display_name == f"(erased client #{client_id})"
    assert client.consultation_count == 2
    assert client.created_at.startswith("2026-11-28T09:")
    records = store.consultations(client_id)
    assert [r.id for r in records] == ids[::-1]
    for record in records:
        assert record.erased
        assert record.decision == ERASED_DECISION
        assert (record.case_data, record.assessment, record.note) == ({}, {}, "")
        assert record.knowledge_hash == assessed.knowledge.hash
        assert record.saved_at.startswith("2026-11-28T09:")
        assert record.practitioner == "J. Doe RN"
    assert records[0].corrects == ids[0]
    assert store.erasure(client_id) == {
        "at": client.erased_at,
        "by": "DPO Jane",
        "reason": "subject request 2026-17",
    }
    erased = store.audit()[-1]
    assert (erased.action, erased.actor, erased.client_id) == ("client.erased", "DPO Jane", 1)
    assert erased.detail == "2 consultation(s) blanked; reason: subject request 2026-17"
    assert store.clients() == []
    assert [c.id for c in store.clients(include_erased=True)] == [client_id]
    assert store.knowledge_hashes() == [assessed.knowledge.hash]  # not client data


@pytest.mark.parametrize("vacuum", [True, False], ids=["vacuum", "secure_delete_only"])
def test_erased_text_is_gone_from_the_file(
    vacuum: bool,
    store: RecordStore,
    assessed: Assessed,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    if not vacuum:  # freed pages must be zeroed even when VACUUM cannot run
        monkeypatch.setattr(RecordStore, "_compact", lambda _self: None)
    client = store.add_client(NAME, reference=REFERENCE, notes=NOTES)
    _save(store, assessed, client.id, note="note-marker-one")
    store.close()
    before = db_path.read_bytes()
    assert NAME.encode() in before
    assert CASE_MARKER.encode() in before
    with RecordStore(db_path) as reopened:
        reopened.erase_client(client.id, by="DPO", reason="request")
    data = db_path.read_bytes()
    for secret in (NAME, "Quintessa", REFERENCE, NOTES, CASE_MARKER, "note-marker-one"):
        assert secret.encode() not in data, secret
    assert not Path(f"{db_path}-journal").exists()
    assert not Path(f"{db_path}-wal").exists()


def test_an_erased_client_cannot_be_changed(store: RecordStore, assessed: Assessed, db_path: Path):
    client_id, ids = _erased_store(store, assessed)
    with pytest.raises(ErasedClientError):
        _save(store, assessed, client_id)
    with pytest.raises(ErasedClientError):
        store.erase_client(client_id, by="x", reason="again")
    with pytest.raises(ErasedClientError):
        store.update_client(client_id, by="x", name="Back Again")
    raw = _raw(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="erased"):
            raw.execute("UPDATE clients SET name = 'Back' WHERE id = ?", (client_id,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE consultations SET case_data = '{}' WHERE id = ?", (ids[0],))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM consultations WHERE id = ?", (ids[0],))
        with pytest.raises(sqlite3.IntegrityError, match="erased"):
            raw.execute(
                "INSERT INTO consultations (client_id, saved_at, consultation_date, practitioner,"
                " knowledge_name, knowledge_version, knowledge_hash)"
                " VALUES (?, 'now', '2026-01-01', 'x', 'k', '1', ?)",
                (client_id, assessed.knowledge.hash),
            )
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM erasures")
    finally:
        raw.close()


def test_erasure_needs_who_and_why(store: RecordStore):
    client = store.add_client(NAME)
    with pytest.raises(RecordError, match="who erases"):
        store.erase_client(client.id, by=" ", reason="request")
    with pytest.raises(RecordError, match="reason"):
        store.erase_client(client.id, by="DPO", reason="")
    assert not store.client(client.id).erased


# --- audit, export, logs ----------------------------------------------------------------------
def test_every_write_is_audited_without_client_data(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME, reference=REFERENCE, notes=NOTES, by="reception")
    store.update_client(client.id, by="reception", notes="changed-notes-marker")
    record = _save(store, assessed, client.id, note="note-marker-one")
    store.export_client(client.id, by="DPO")
    store.erase_client(client.id, by="DPO", reason="request")
    events = store.audit()
    assert [e.action for e in events] == [
        "schema.created",
        "client.added",
        "client.updated",
        "knowledge.stored",
        "consultation.saved",
        "client.exported",
        "client.erased",
    ]
    saved = events[4]
    assert (saved.client_id, saved.consultation_id, saved.actor) == (1, record.id, "J. Doe RN")
    text = json.dumps([e.to_json() for e in events])
    for secret in (NAME, REFERENCE, NOTES, "changed-notes-marker", CASE_MARKER, "note-marker"):
        assert secret not in text
    assert assessed.assessment.decision not in text
    assert [e.id for e in store.audit(client.id)] == [e.id for e in events if e.client_id == 1]


def test_export_holds_everything_about_one_client(store: RecordStore, assessed: Assessed):
    client = store.add_client(NAME, reference=REFERENCE, date_of_birth=dt.date(1980, 2, 3))
    other = store.add_client("Someone Else")
    record = _save(store, assessed, client.id)
    _save(store, assessed, other.id)
    data = store.export_client(client.id, by="DPO")
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    assert data["format"] == EXPORT_FORMAT
    assert data["client"]["name"] == NAME
    assert data["client"]["date_of_birth"] == "1980-02-03"
    assert [c["id"] for c in data["consultations"]] == [record.id]
    assert data["consultations"][0]["case"] == record.case_data
    assert data["consultations"][0]["assessment"]["decision"] == record.decision
    assert data["erasure"] is None
    assert {e["client_id"] for e in data["audit"]} == {client.id}
    assert data["audit"][-1]["action"] == "client.exported"
    assert "Someone Else" not in json.dumps(data)


def test_export_of_an_erased_client_shows_the_tombstone(store: RecordStore, assessed: Assessed):
    client_id, _ = _erased_store(store, assessed)
    data = store.export_client(client_id)
    assert data["client"]["name"] is None
    assert data["erasure"]["by"] == "DPO Jane"
    assert all(c["case"] is None and c["assessment"] is None for c in data["consultations"])
    assert NAME not in json.dumps(data)


def test_logs_carry_ids_never_names_or_case_content(
    store: RecordStore, assessed: Assessed, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.DEBUG):
        client = store.add_client(NAME, reference=REFERENCE)
        _save(store, assessed, client.id, note="note-marker-one")
        store.erase_client(client.id, by="DPO", reason="request")
    assert "client 1" in caplog.text
    for secret in (NAME, REFERENCE, CASE_MARKER, "note-marker-one"):
        assert secret not in caplog.text


# --- snapshots and re-explanation -------------------------------------------------------------
def test_the_snapshot_restores_the_knowledge_that_decided(
    store: RecordStore, assessed: Assessed, tmp_path: Path
):
    client = store.add_client(NAME)
    record = _save(store, assessed, client.id)
    root = store.knowledge_snapshot(record.knowledge_hash, tmp_path / "restore")
    assert load_knowledge(root).hash == record.knowledge_hash
    assert (root / "rules" / "rules.yaml").read_bytes() == (MINI / "rules/rules.yaml").read_bytes()


def test_a_damaged_snapshot_is_detected(store: RecordStore, assessed: Assessed, db_path: Path):
    client = store.add_client(NAME)
    record = _save(store, assessed, client.id)
    raw = _raw(db_path)
    try:  # only by removing the guard can the snapshot be altered
        raw.execute("DROP TRIGGER snapshots_no_update")
        raw.execute("UPDATE knowledge_snapshots SET files = json_set(files, '$.\"x.yaml\"', 'y')")
    finally:
        raw.close()
    with pytest.raises(CorruptDatabaseError, match="damaged"):
        store.snapshot_files(record.knowledge_hash)


def test_an_old_consultation_re_explains_after_the_knowledge_changed(
    store: RecordStore, tmp_path: Path
):
    """Save with a copy of the bundled knowledge, change the copy, re-assess the old record."""
    copy = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE, copy)
    knowledge = load_knowledge(copy)
    case = load_case(knowledge, ROOT / "examples" / "anticoagulated.yaml")
    assessor = Assessor(compile_knowledge(knowledge))
    stored = assessor.assess(case)
    assessor.close()
    assert stored.decision == "REFER_FOR_CLEARANCE"
    client = store.add_client(NAME)
    record = store.save_consultation(
        client.id, case_data=case.raw, assessment=stored, knowledge=knowledge, practitioner="x"
    )

    policy = copy / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    old = "{action: refer, decision: REFER_FOR_CLEARANCE}"
    assert text.count(old) == 1, "the bundled policy.yaml changed: update this test's edit"
    policy.write_text(text.replace(old, "{action: refer, decision: DECLINE}"), encoding="utf-8")
    changed = load_knowledge(copy)
    assert changed.hash != knowledge.hash
    assessor = Assessor(compile_knowledge(changed))
    assert assessor.assess(
        load_case(changed, ROOT / "examples" / "anticoagulated.yaml")
    ).decision == ("DECLINE")
    assessor.close()
    shutil.rmtree(copy)  # the record does not depend on the directory it was decided with

    replayed = store.reassess(record.id, tmp_path / "restore")
    assert replayed.knowledge.hash == knowledge.hash
    assert replayed.same_decision
    assert replayed.assessment.decision == "REFER_FOR_CLEARANCE"
    assert replayed.differences == ()
    how = how_finding(replayed.knowledge, replayed.assessment, "ANTICOAG_ANTIPLATELET")
    stored_finding = next(
        f for f in record.assessment["findings"] if f["code"] == "ANTICOAG_ANTIPLATELET"
    )
    assert {n.rule.id for n in how.nodes} == set(stored_finding["rules"])


def test_an_erased_consultation_cannot_be_re_assessed(
    store: RecordStore, assessed: Assessed, tmp_path: Path
):
    _, ids = _erased_store(store, assessed)
    with pytest.raises(ErasedClientError):
        store.reassess(ids[0], tmp_path)


# --- schema versions and migrations -----------------------------------------------------------
def test_migration_statements_keep_trigger_bodies_whole():
    for migration in MIGRATIONS:
        for statement in statements(migration.sql):
            assert sqlite3.complete_statement(statement)
            if statement.startswith("CREATE TRIGGER"):
                assert statement.endswith("END;")
    with pytest.raises(RecordError, match="incomplete"):
        statements("CREATE TABLE x (a")


def _v1_database(path: Path, assessed: Assessed, target: int = 1) -> None:
    """A database as the first release wrote it, with a client and a consultation."""
    raw = _raw(path)
    try:
        assert migrate(raw, target=target) == (0, target)
        raw.execute(
            "INSERT INTO clients (name, reference, notes, created_at)"
            " VALUES (?, ?, '', '2025-01-01T10:00:00+00:00')",
            (NAME, REFERENCE),
        )
        raw.execute(
            "INSERT INTO knowledge_snapshots VALUES (?, 'microneedling', '0.1.0', '{}', '', 'x')",
            (assessed.knowledge.hash,),
        )
        raw.execute(
            "INSERT INTO consultations (client_id, saved_at, consultation_date, practitioner, note,"
            " case_data, assessment, decision, provisional, knowledge_name, knowledge_version,"
            " knowledge_hash) VALUES (1, '2025-01-01T10:05:00+00:00', '2025-01-01', 'J', '',"
            " ?, ?, 'DEFER', 0, 'microneedling', '0.1.0', ?)",
            (
                json.dumps(assessed.case_data, default=str),
                json.dumps(assessed.assessment.to_json()),
                assessed.knowledge.hash,
            ),
        )
    finally:
        raw.close()
    path.chmod(0o600)


@pytest.mark.parametrize("old", [0, 1, 2])
def test_an_old_database_is_migrated_with_its_data(old: int, tmp_path: Path, assessed: Assessed):
    path = tmp_path / "old.sqlite3"
    if old == 0:
        path.touch(mode=0o600)  # an empty file: version 0
    else:
        _v1_database(path, assessed, target=old)
    with RecordStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        migrated = store.audit()[-1]
        expected = "schema.created" if old == 0 else "schema.migrated"
        assert (migrated.action, migrated.detail) == (expected, f"schema {old} -> 3")
        if old:
            client = store.client(1)
            assert (client.name, client.erased_at, client.consultation_count) == (NAME, None, 1)
            assert store.consultation(1).decision == "DEFER"
            store.erase_client(1, by="DPO", reason="request")
            assert store.consultation(1).decision == ERASED_DECISION
    raw = _raw(path)
    try:
        assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM audit")
    finally:
        raw.close()


def test_migrating_twice_changes_nothing(tmp_path: Path):
    raw = _raw(tmp_path / "db.sqlite3")
    try:
        assert migrate(raw) == (0, SCHEMA_VERSION)
        assert migrate(raw) == (SCHEMA_VERSION, SCHEMA_VERSION)
    finally:
        raw.close()


def test_a_failing_migration_step_is_rolled_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    broken = Migration(
        version=2, description="broken", sql="CREATE TABLE x (a);\nCREATE TABLE x (a);\n"
    )
    monkeypatch.setattr("engine.records.MIGRATIONS", (MIGRATIONS[0], broken))
    raw = _raw(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            migrate(raw, target=2)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "x" not in tables
        assert "clients" in tables
    finally:
        raw.close()


def test_a_newer_schema_is_refused(db_path: Path):
    RecordStore(db_path).close()
    raw = _raw(db_path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(NewerSchemaError, match="upgrade needlewise"):
        RecordStore(db_path)


def test_another_sqlite_database_is_refused(tmp_path: Path):
    path = tmp_path / "other.sqlite3"
    raw = _raw(path)
    raw.execute("CREATE TABLE notes (text)")
    raw.close()
    path.chmod(0o600)
    with pytest.raises(NotNeedlewiseDatabaseError, match="not a needlewise records database"):
        RecordStore(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n" * 200, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(NotNeedlewiseDatabaseError):
        RecordStore(path)


def test_a_damaged_database_is_reported(db_path: Path, assessed: Assessed):
    with RecordStore(db_path) as store:
        client = store.add_client(NAME)
        _save(store, assessed, client.id)
    data = bytearray(db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the first
    db_path.write_bytes(bytes(data))
    with pytest.raises(CorruptDatabaseError, match="damaged"), RecordStore(db_path) as store:
        store.clients()


def test_a_locked_database_is_reported(db_path: Path):
    store = RecordStore(db_path, timeout=0.05)
    raw = _raw(db_path)
    try:
        raw.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseLockedError, match="locked by another program"):
            store.add_client(NAME)
        with pytest.raises(DatabaseLockedError):
            store.clients()
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    assert store.add_client(NAME).id == 1
    store.close()


def test_api_errors_from_triggers_are_record_errors(store: RecordStore):
    client = store.add_client(NAME)
    with pytest.raises(AppendOnlyError), store._transaction() as conn:  # noqa: SLF001
        conn.execute("DELETE FROM clients WHERE id = ?", (client.id,))
    assert store.client(client.id).name == NAME


def test_the_database_file_is_not_world_readable_after_use(store: RecordStore, db_path: Path):
    store.add_client(NAME)
    assert not db_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
