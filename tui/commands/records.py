"""``needlewise records``: the client records store from the command line.

``list``, ``show``, ``consultation``, ``export``, ``erase``, ``report``, ``explain``, ``audit``,
``add-client`` and ``save``. Exit codes (DESIGN.md section 2): 0 done; 1 ``explain`` could not
reproduce the stored decision; 2 unusable input (unknown id, bad database, bad case file...).
Files written (exports, reports) are created with mode 0600: they hold client data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine import CaseError, KnowledgeError
from engine.explain import ExplainError
from engine.records import (
    ClientRecord,
    ConsultationRecord,
    RecordError,
    RecordStore,
    default_db_path,
)
from engine.snapshot import SnapshotError
from tui.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILURES,
    EXIT_OK,
    add_knowledge_option,
    assessor_for,
    load_any_case,
    report_problems,
)
from tui.explain_render import explain_requested, to_jsonable
from tui.reports import client_handout, practitioner_summary, to_html

NAME = "records"
HELP = "client records: list, show, export, erase, reports, re-explain, save"

Action = Callable[[argparse.Namespace], int]


class _UsageError(Exception):
    """A problem with the command line that argparse cannot see (exit 2)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``records`` actions and their arguments."""
    sub = parser.add_subparsers(dest="records_action", metavar="ACTION", required=True)

    def action(name: str, run: Action, help_text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help_text, description=help_text)
        child.add_argument(
            "--db",
            type=Path,
            default=None,
            metavar="PATH",
            help="records database (default: $NEEDLEWISE_DB or the user data directory)",
        )
        child.set_defaults(records_run=run)
        return child

    p = action("list", _list, "list clients (search by name or reference)")
    p.add_argument("--search", default="", help="text in the name or reference")
    p.add_argument("--include-erased", action="store_true", help="also list erased clients")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = action("show", _show, "a client with their consultations, newest first")
    p.add_argument("client_id", type=int, metavar="CLIENT_ID")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = action("consultation", _consultation, "one stored consultation")
    p.add_argument("consultation_id", type=int, metavar="ID")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = action("export", _export, "everything about a client as JSON (subject-access request)")
    p.add_argument("client_id", type=int, metavar="CLIENT_ID")
    p.add_argument("--out", type=Path, help="write to this file (mode 0600) instead of stdout")
    p.add_argument("--by", default="", help="who exports (audit log; default: your login)")

    p = action("erase", _erase, "erase a client: identity and case content removed, audited")
    p.add_argument("client_id", type=int, metavar="CLIENT_ID")
    p.add_argument("--by", required=True, help="who erases (kept in the audit log)")
    p.add_argument("--reason", required=True, help="why (kept in the audit log; no health data)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = action("report", _report, "a practitioner summary or a client handout of a consultation")
    p.add_argument("consultation_id", type=int, metavar="CONSULTATION_ID")
    p.add_argument("--kind", choices=("summary", "handout"), default="summary")
    p.add_argument("--format", choices=("md", "html"), default="md")
    p.add_argument("--out", type=Path, help="write to this file (mode 0600) instead of stdout")

    p = action("explain", _explain, "re-assess a consultation with its own knowledge and explain")
    p.add_argument("consultation_id", type=int, metavar="CONSULTATION_ID")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--finding", metavar="CODE", help="HOW a finding was raised")
    what.add_argument("--depth", metavar="ZONE", help="HOW a zone's depth verdict was reached")
    what.add_argument("--why-not", metavar="CODE_OR_RULE", help="why a code or rule did not fire")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")

    p = action("audit", _audit, "the audit log: every write, oldest first")
    p.add_argument("--client", type=int, metavar="CLIENT_ID", help="only events about a client")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = action("add-client", _add_client, "add a client")
    p.add_argument("name")
    p.add_argument("--dob", type=_date, metavar="YYYY-MM-DD", help="date of birth")
    p.add_argument("--reference", default="", help="the clinic's own reference")
    p.add_argument("--notes", default="")
    p.add_argument("--by", default="", help="who adds (audit log; default: your login)")

    p = action("save", _save, "assess a case file and store it as a consultation")
    p.add_argument("client_id", type=int, metavar="CLIENT_ID")
    p.add_argument("case", type=Path, metavar="CASE_FILE")
    p.add_argument("--practitioner", required=True, help="who saves it")
    p.add_argument("--note", default="")
    p.add_argument("--corrects", type=int, metavar="ID", help="the consultation this corrects")
    add_knowledge_option(p)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; report store and input errors on stderr."""
    action: Action = args.records_run
    try:
        return action(args)
    except (KnowledgeError, CaseError) as exc:
        report_problems(exc)
    except (RecordError, SnapshotError, ExplainError, _UsageError) as exc:
        sys.stderr.write(f"needlewise records: {exc}\n")
    except OSError as exc:
        sys.stderr.write(f"needlewise records: {exc.strerror or exc}: {exc.filename or ''}\n")
    return EXIT_BAD_INPUT


# --- helpers --------------------------------------------------------------------------------
def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        msg = f"expected a date YYYY-MM-DD, not '{text}'"
        raise argparse.ArgumentTypeError(msg) from exc


def _store(args: argparse.Namespace, *, create: bool = False) -> RecordStore:
    path: Path = args.db or default_db_path()
    if not create and not path.exists():
        msg = (
            f"no records database at '{path}' (add a client with "
            "'needlewise records add-client NAME', or pass --db)"
        )
        raise _UsageError(msg)
    return RecordStore(path)


def _actor(given: str) -> str:
    if given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (containers): the audit says so
        return "unknown"


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), also when it already existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT
        handle.write(text)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    write_private(out, text)
    sys.stderr.write(f"wrote {out} (mode 0600)\n")


def _json(data: Any) -> str:  # noqa: ANN401
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    return "\n".join(lines) + "\n"


def _client_line(client: ClientRecord) -> list[str]:
    return [
        f"#{client.id}",
        client.display_name,
        client.reference or "-",
        client.date_of_birth.isoformat() if client.date_of_birth else "-",
        str(client.consultation_count),
        (client.last_saved_at or "-")[:10],
    ]


def _consultation_line(record: ConsultationRecord) -> list[str]:
    decision = record.decision + (" (provisional)" if record.provisional else "")
    return [
        f"#{record.id}",
        record.saved_at,
        record.consultation_date,
        decision,
        f"{record.knowledge_name} {record.knowledge_version} ({record.knowledge_hash[:12]})",
        record.practitioner,
        f"#{record.corrects}" if record.corrects is not None else "-",
    ]


# --- actions --------------------------------------------------------------------------------
def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        found = store.clients(args.search, include_erased=args.include_erased)
    if args.format == "json":
        sys.stdout.write(_json([c.to_json() for c in found]))
    elif not found:
        sys.stdout.write("no clients found\n")
    else:
        header = ["id", "name", "reference", "born", "consultations", "last saved"]
        sys.stdout.write(_columns(header, [_client_line(c) for c in found]))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        client = store.client(args.client_id)
        records = store.consultations(args.client_id)
        erasure = store.erasure(args.client_id)
    if args.format == "json":
        data = client.to_json() | {"consultations": [_summary_json(r) for r in records]}
        sys.stdout.write(_json(data | {"erasure": erasure}))
        return EXIT_OK
    lines = [f"client #{client.id}: {client.display_name}"]
    if erasure:
        lines.append(f"  erased {erasure['at']} by {erasure['by']}: {erasure['reason']}")
    else:
        born = client.date_of_birth.isoformat() if client.date_of_birth else "-"
        lines.append(f"  reference: {client.reference or '-'}; born: {born}")
        if client.notes:
            lines.append(f"  notes: {client.notes}")
    lines.append(f"  added {client.created_at}; {len(records)} consultation(s)")
    sys.stdout.write("\n".join(lines) + "\n\n")
    if records:
        header = ["id", "saved at", "date", "decision", "knowledge", "practitioner", "corrects"]
        sys.stdout.write(_columns(header, [_consultation_line(r) for r in records]))
    return EXIT_OK


def _summary_json(record: ConsultationRecord) -> dict[str, Any]:
    data = record.to_json()
    return {k: v for k, v in data.items() if k not in {"case", "assessment"}}


def _consultation(args: argparse.Namespace) -> int:
    with _store(args) as store:
        record = store.consultation(args.consultation_id)
        client = store.client(record.client_id)
        corrected_by = [c.id for c in store.corrections(record.id)]
        if args.format == "json":
            data = record.to_json() | {"corrected_by": corrected_by}
            sys.stdout.write(_json(data))
            return EXIT_OK
        head = [
            f"consultation #{record.id} of client #{client.id} ({client.display_name})",
            (
                f"  saved {record.saved_at} by {record.practitioner}; "
                f"consultation date {record.consultation_date}"
            ),
            (
                f"  knowledge {record.knowledge_name} {record.knowledge_version} "
                f"({record.knowledge_hash[:12]})"
            ),
        ]
        if record.corrects is not None:
            head.append(f"  corrects consultation #{record.corrects}")
        if corrected_by:
            head.append(f"  corrected by: {', '.join(f'#{i}' for i in corrected_by)}")
        if record.note:
            head.append(f"  note: {record.note}")
        if record.erased:
            head.append(f"  content erased {record.erased_at}")
            sys.stdout.write("\n".join(head) + "\n")
            return EXIT_OK
        with tempfile.TemporaryDirectory(prefix="needlewise-") as tmp:
            knowledge = store.load_snapshot(record.knowledge_hash, tmp)
            text = practitioner_summary(
                record.assessment,
                case_data=record.case_data,
                client_name=client.name,
                practitioner=record.practitioner,
                knowledge=knowledge,
                saved_at=record.saved_at,
            )
    sys.stdout.write("\n".join(head) + "\n\n" + text)
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    with _store(args) as store:
        data = store.export_client(args.client_id, by=_actor(args.by))
    _emit(_json(data), args.out)
    return EXIT_OK


def _erase(args: argparse.Namespace) -> int:
    with _store(args) as store:
        client = store.client(args.client_id)
        if client.erased:
            msg = f"client #{client.id} was already erased on {client.erased_at}"
            raise _UsageError(msg)
        if not args.yes:
            if not sys.stdin.isatty():
                msg = "refusing to erase without --yes: there is no terminal to confirm on"
                raise _UsageError(msg)
            sys.stderr.write(
                f"Erase client #{client.id} ({client.name}) and the content of "
                f"{client.consultation_count} consultation(s)? This cannot be undone.\n"
            )
            answer = input(f"Type the client id ({client.id}) to confirm: ").strip()
            if answer != str(client.id):
                sys.stderr.write("not erased\n")
                return EXIT_BAD_INPUT
        store.erase_client(client.id, by=args.by, reason=args.reason)
    sys.stdout.write(
        f"erased client #{client.id}: identity and {client.consultation_count} consultation(s) "
        "blanked; the erasure is in the audit log\n"
    )
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    with _store(args) as store:
        record = store.consultation(args.consultation_id)
        if record.erased:
            msg = f"consultation #{record.id} was erased on {record.erased_at}: nothing to report"
            raise _UsageError(msg)
        client = store.client(record.client_id)
        if args.kind == "handout":
            text = client_handout(record.assessment, client_name=client.name)
            title = f"Aftercare for {client.name} ({record.consultation_date})"
        else:
            with tempfile.TemporaryDirectory(prefix="needlewise-") as tmp:
                text = practitioner_summary(
                    record.assessment,
                    case_data=record.case_data,
                    client_name=client.name,
                    practitioner=record.practitioner,
                    knowledge=store.load_snapshot(record.knowledge_hash, tmp),
                    saved_at=record.saved_at,
                    note=record.note,
                )
            title = f"Consultation #{record.id}: {client.name} ({record.consultation_date})"
    _emit(to_html(text, title) if args.format == "html" else text, args.out)
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    with _store(args) as store, tempfile.TemporaryDirectory(prefix="needlewise-") as tmp:
        replayed = store.reassess(args.consultation_id, tmp)
    record = replayed.consultation
    knowledge = replayed.knowledge
    assessment = replayed.assessment
    result, text = explain_requested(
        knowledge, replayed.trace, args, markdown=args.format == "markdown"
    )
    stored = record.decision + (" (provisional)" if record.provisional else "")
    now = assessment.decision + (" (provisional)" if assessment.provisional else "")
    if args.format == "json":
        data = {
            "consultation": record.id,
            "knowledge": {
                "name": knowledge.name,
                "version": knowledge.version,
                "hash": knowledge.hash,
            },
            "consultation_date": record.consultation_date,
            "stored_decision": record.decision,
            "replayed_decision": assessment.decision,
            "reproduced": replayed.same_decision,
            "differences": list(replayed.differences),
            "explanation": to_jsonable(result),
        }
        sys.stdout.write(_json(data))
    else:
        head = [
            (
                f"consultation #{record.id} re-assessed with its own knowledge "
                f"{knowledge.name} {knowledge.version} ({knowledge.hash[:12]}, restored from the "
                f"record) on its consultation date {record.consultation_date}"
            ),
        ]
        if replayed.same_decision:
            head.append(f"decision reproduced: {stored}")
        else:
            head.append(f"DECISION NOT REPRODUCED: stored {stored}, re-assessed {now}")
        if replayed.differences:
            head.append("differs from the stored assessment in: " + ", ".join(replayed.differences))
        sys.stdout.write("\n".join(head) + "\n\n" + text)
    return EXIT_OK if replayed.same_decision else EXIT_FAILURES


def _audit(args: argparse.Namespace) -> int:
    with _store(args) as store:
        events = store.audit(args.client)
    if args.format == "json":
        sys.stdout.write(_json([e.to_json() for e in events]))
        return EXIT_OK
    rows = [
        [
            str(e.id),
            e.at,
            e.actor,
            e.action,
            "-" if e.client_id is None else f"#{e.client_id}",
            "-" if e.consultation_id is None else f"#{e.consultation_id}",
            e.detail,
        ]
        for e in events
    ]
    header = ["id", "at", "by", "action", "client", "consultation", "detail"]
    sys.stdout.write(_columns(header, rows) if rows else "no events\n")
    return EXIT_OK


def _add_client(args: argparse.Namespace) -> int:
    with _store(args, create=True) as store:
        client = store.add_client(
            args.name,
            date_of_birth=args.dob,
            reference=args.reference,
            notes=args.notes,
            by=_actor(args.by),
        )
    sys.stdout.write(f"added client #{client.id}\n")
    return EXIT_OK


def _save(args: argparse.Namespace) -> int:
    assessor = assessor_for(args.knowledge)
    try:
        case = load_any_case(assessor.knowledge, args.case)
        assessment = assessor.assess(case)
    finally:
        assessor.close()
    with _store(args) as store:
        record = store.save_consultation(
            args.client_id,
            case_data=case.raw if isinstance(case.raw, dict) else {},
            assessment=assessment,
            knowledge=assessor.knowledge,
            practitioner=args.practitioner,
            note=args.note,
            corrects=args.corrects,
        )
    provisional = " (provisional)" if record.provisional else ""
    sys.stdout.write(
        f"saved consultation #{record.id} for client #{record.client_id}: "
        f"{record.decision}{provisional}\n"
    )
    return EXIT_OK
