"""The `n8nclone` command: up, worker, migrate, workflow import|export|list, run, cancel,
rerun, retry, event-key create|list|delete, credential add|list|delete, send-event,
user create|list, api-key create|list|delete."""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from n8nclone.config import ConfigError, Settings, load_settings
from n8nclone.errors import UserInputError
from n8nclone.logs import setup_logging

TERMINAL = ("succeeded", "failed", "cancelled")
# No worker needs to hold the run any more: finished, or waiting for time or an event.
PARKED = (*TERMINAL, "retrying", "sleeping", "waiting")


class CliError(Exception):
    """A message for the user; the command exits with status 2."""


def _services(settings: Settings, *, migrate: bool = True):
    from n8nclone.services import build_services
    from n8nclone.store.migrate import migrate as apply_migrations

    if migrate and settings.is_sqlite:
        apply_migrations(settings.database_url)  # the embedded default needs no setup step
    return build_services(settings)


# -- commands -------------------------------------------------------------------------


def cmd_migrate(args, settings: Settings) -> int:
    from n8nclone.store.migrate import migrate

    migrate(settings.database_url)
    print("database is up to date")
    return 0


def cmd_up(args, settings: Settings) -> int:
    from n8nclone.web import serve  # the server process applies migrations as it starts

    return serve(args.port or settings.port)


def cmd_worker(args, settings: Settings) -> int:
    from n8nclone.worker.runtime import WorkerRuntime

    if not settings.uses_redis:
        raise CliError("`n8nclone worker` needs REDIS_URL (without it, `n8nclone up` runs "
                       "the workers in-process)")
    setup_logging(settings)
    runtime = WorkerRuntime(_services(settings, migrate=False), threads=args.threads).start()
    _serve_until_stopped(f"worker ready ({runtime.worker.worker_threads} threads)")
    runtime.stop()
    return 0


def _serve_until_stopped(ready_message: str) -> None:
    """Say we are ready, then block until SIGINT or SIGTERM."""
    gc.freeze()  # what startup built stays: spare the collector from walking it again and again
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(ready_message, flush=True)
    stop.wait()


def cmd_scheduler(args, settings: Settings) -> int:
    from n8nclone.triggers.schedules import build_scheduler

    setup_logging(settings)
    # Without REDIS_URL nobody could receive a message from this process: the runs it
    # starts wait queued in the database until the sweep of `n8nclone up` takes them.
    scheduler = build_scheduler(_services(settings), dispatch=settings.uses_redis)
    scheduler.start()
    _serve_until_stopped(f"scheduler ready (checks every {settings.scheduler_interval:g} s)")
    scheduler.stop()
    scheduler.join(timeout=10)
    return 0


def _json_option(text: str | None, option: str, default: Any = None) -> Any:
    """A command-line option holding JSON (`default` when not given)."""
    if text is None:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{option} is not valid JSON: {exc.msg}") from None


def _read_json_file(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded); "
                       "save the workflow file as UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                       f"column {exc.colno})") from None


def cmd_workflow_import(args, settings: Settings) -> int:
    from n8nclone.workflows import import_workflow

    data = _read_json_file(args.file)
    services = _services(settings)
    record = import_workflow(services.workflows, services.registry, data)
    print(f"imported '{record.name}' (id {record.id}, version {record.version})")
    return 0


def cmd_workflow_export(args, settings: Settings) -> int:
    from n8nclone.workflows import mask_secrets

    services = _services(settings)
    record = services.workflows.find(args.name)
    if record is None:
        raise CliError(f"no workflow named {args.name!r}")
    text = json.dumps(mask_secrets(record.spec, services.registry), indent=2)
    if args.output:
        try:
            Path(args.output).write_text(text + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        print(text)
    return 0


def cmd_workflow_list(args, settings: Settings) -> int:
    records = _services(settings).workflows.list()
    if not records:
        print("no workflows yet: `n8nclone workflow import FILE` adds one")
        return 0
    rows = [(str(r.id), r.name, "yes" if r.active else "no", str(r.version)) for r in records]
    print(_table(("id", "name", "active", "version"), rows))
    return 0


def cmd_run(args, settings: Settings) -> int:
    from n8nclone.engine.start import start_run

    data = _json_option(args.data, "--data")
    services = _services(settings)
    record = services.workflows.find(args.name)
    if record is None:
        raise CliError(f"no workflow named {args.name!r}")
    return _execute_new_run(args, settings, services, lambda: start_run(
        services.runs, services.dispatcher, workflow_id=record.id,
        version_id=record.version_id, plan_settings=record.plan.get("settings", {}),
        input=data, trigger_type="cli"))


def cmd_rerun(args, settings: Settings) -> int:
    from n8nclone.engine.control import KEEP, rerun_run

    data = _json_option(args.data, "--data", default=KEEP)
    services = _services(settings)
    return _execute_new_run(args, settings, services, lambda: _started_again(
        args.run_id, rerun_run(services.runs, services.dispatcher, args.run_id, input=data)))


def cmd_retry(args, settings: Settings) -> int:
    from n8nclone.engine.control import retry_run

    services = _services(settings)
    return _execute_new_run(args, settings, services, lambda: _started_again(
        args.run_id, retry_run(services.runs, services.dispatcher, args.run_id)))


def _started_again(old_run_id: str, new_run_id: str | None) -> str:
    if new_run_id is None:
        raise CliError(f"no run with id {old_run_id!r}")
    return new_run_id


def _execute_new_run(args, settings: Settings, services, start: Callable[[], str]) -> int:
    """Start a run with `start` and report it (`--wait`, `--json`). On the embedded default
    this command works on its run itself, until it finishes or waits to retry."""
    from n8nclone.worker.runtime import WorkerRuntime

    runtime = None
    if not settings.uses_redis:
        runtime = WorkerRuntime(services, sweep=False).start()
    try:
        run_id = start()
        if args.wait:
            status = _wait_for(services, run_id, TERMINAL, args.timeout)
        elif runtime is not None:
            status = _wait_for(services, run_id, TERMINAL + ("retrying",), args.timeout)
        else:
            status = "queued"
    finally:
        if runtime is not None:
            runtime.stop()
    run = services.run_queries.get_run(run_id)
    if args.json:
        print(json.dumps(run, indent=2, default=str))
    elif args.wait:
        _print_run(run)
    else:
        print(f"run {run_id} {status}")
    return 1 if (args.wait and run["status"] != "succeeded") else 0


def cmd_cancel(args, settings: Settings) -> int:
    from n8nclone.engine.control import cancel_run

    services = _services(settings)
    status = cancel_run(services.runs, services.dispatcher, args.run_id)
    if status is None:
        raise CliError(f"no run with id {args.run_id!r}")
    print(f"run {args.run_id} {status}")
    return 0


def _database(settings: Settings):
    """The database alone (no broker or engine), migrated on the embedded default."""
    from n8nclone.store.db import get_database
    from n8nclone.store.migrate import migrate as apply_migrations

    if settings.is_sqlite:
        apply_migrations(settings.database_url)
    return get_database(settings.database_url)


def cmd_event_key_create(args, settings: Settings) -> int:
    from n8nclone.store.event_keys import EventKeyStore

    record, key = EventKeyStore(_database(settings)).create(args.name)
    # The key alone on stdout (KEY=$(n8nclone event-key create)); it is never shown again.
    print(f"event key '{record.name}' created; it is shown only this once, store it now. "
          "Send events to POST /e/<key>.", file=sys.stderr)
    print(key)
    return 0


def cmd_event_key_list(args, settings: Settings) -> int:
    from n8nclone.store.event_keys import EventKeyStore

    records = EventKeyStore(_database(settings)).list()
    if not records:
        print("no event keys yet: `n8nclone event-key create` makes one")
        return 0
    rows = [(r.name, r.masked_hint, r.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
            for r in records]
    print(_table(("name", "key", "created"), rows))
    return 0


def cmd_event_key_delete(args, settings: Settings) -> int:
    from n8nclone.store.event_keys import EventKeyStore

    if not EventKeyStore(_database(settings)).delete(args.name):
        raise CliError(f"no event key named {args.name!r}")
    print(f"event key '{args.name}' deleted; senders using it now get 401")
    return 0


def _accounts(settings: Settings):
    from n8nclone.auth import Accounts

    return Accounts(_database(settings), settings.session_days)


def _password(option: str | None) -> str:
    """The password of `user create`: --password, standard input for `-`, else a prompt."""
    if option == "-":
        return _strip_newline(sys.stdin.read())
    if option is not None:
        return option
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password (not shown): ")
        if getpass.getpass("the same again: ") != password:
            raise CliError("the two passwords differ")
        return password
    raise CliError("give the password with --password PASSWORD, or --password - to read it "
                   "from standard input")


def cmd_user_create(args, settings: Settings) -> int:
    password = _password(args.password)
    user = _accounts(settings).create_user(args.email, password)
    print(f"user '{user.email}' created; it can log in now")
    return 0


def cmd_user_list(args, settings: Settings) -> int:
    users = _accounts(settings).users.list()
    if not users:
        print("no users yet: `n8nclone user create EMAIL --password -` adds one")
        return 0
    rows = [(u.email, u.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
             u.last_login_at.strftime("%Y-%m-%d %H:%M:%S UTC") if u.last_login_at else "never")
            for u in users]
    print(_table(("email", "created", "last login"), rows))
    return 0


def cmd_api_key_create(args, settings: Settings) -> int:
    record, key = _accounts(settings).create_api_key(args.name)
    # The key alone on stdout (KEY=$(n8nclone api-key create)); it is never shown again.
    print(f"API key '{record.name}' created; it is shown only this once, store it now. "
          "Send it as 'Authorization: Bearer <key>'.", file=sys.stderr)
    print(key)
    return 0


def cmd_api_key_list(args, settings: Settings) -> int:
    records = _accounts(settings).list_api_keys()
    if not records:
        print("no API keys yet: `n8nclone api-key create` makes one")
        return 0
    rows = [(r.name, r.masked_hint, r.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
             r.last_used_at.strftime("%Y-%m-%d %H:%M:%S UTC") if r.last_used_at else "never")
            for r in records]
    print(_table(("name", "key", "created", "last used"), rows))
    return 0


def cmd_api_key_delete(args, settings: Settings) -> int:
    if not _accounts(settings).delete_api_key(args.name):
        raise CliError(f"no API key named {args.name!r}")
    print(f"API key '{args.name}' deleted; scripts using it now get 401")
    return 0


def _strip_newline(value: str) -> str:
    """`echo SECRET |` and files end with one newline that is not part of the secret."""
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith("\n") else value


def _credentials(settings: Settings):
    from n8nclone.credentials.crypto import SecretKeyLoader
    from n8nclone.credentials.vault import CredentialVault
    from n8nclone.store.credentials import CredentialStore

    return CredentialVault(CredentialStore(_database(settings)),
                           SecretKeyLoader.from_settings(settings))


def _secret_value(option: str | None) -> str:
    """The value of `credential add`: --value, standard input for `-`, else a prompt."""
    if option == "-":
        return _strip_newline(sys.stdin.read())
    if option is not None:
        return option
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("secret value (not shown): ")
    raise CliError("give the secret with --value SECRET, or --value - to read it from "
                   "standard input")


def cmd_credential_add(args, settings: Settings) -> int:
    value = _secret_value(args.value)
    info, created = _credentials(settings).save(args.name, args.type, value)
    print(f"credential '{info.name}' {'added' if created else 'updated'} "
          f"({info.type}, {info.hint})")
    return 0


def cmd_credential_list(args, settings: Settings) -> int:
    infos = _credentials(settings).list()
    if not infos:
        print("no credentials yet: `n8nclone credential add NAME --type TYPE --value -` "
              "adds one")
        return 0
    rows = [(i.name, i.type, i.hint, i.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
            for i in infos]
    print(_table(("name", "type", "hint", "updated"), rows))
    return 0


def cmd_credential_delete(args, settings: Settings) -> int:
    if not _credentials(settings).delete(args.name):
        raise CliError(f"no credential named {args.name!r}")
    print(f"credential '{args.name}' deleted; steps naming it now fail")
    return 0


def cmd_send_event(args, settings: Settings) -> int:
    from n8nclone.store.clock import utcnow
    from n8nclone.triggers.events import EventIn, ingest_events
    from n8nclone.worker.runtime import WorkerRuntime

    if not args.name.strip() or len(args.name) > 200:
        raise CliError("the event name must be 1 to 200 characters")
    data: Any = _json_option(args.data, "--data", default={})
    services = _services(settings)
    runtime = None
    if not settings.uses_redis:
        # Embedded default: this command executes the runs its event starts or resumes.
        runtime = WorkerRuntime(services, sweep=False).start()
    try:
        since = utcnow()
        ids = ingest_events(services, [EventIn(name=args.name, data=data, id=args.id or None)])
        if runtime is not None:
            _execute_event_runs(services, ids, [args.id] if args.id else ids, since,
                                args.timeout)
    finally:
        if runtime is not None:
            runtime.stop()
    for event_id in ids:
        print(event_id)
    return 0


# -- helpers --------------------------------------------------------------------------


def _execute_event_runs(services, event_ids: list[str], references: list[str], since,
                        timeout: float) -> None:
    """Wait until every run the events started or resumed has been worked on and is parked
    (finished, or waiting for time or an event); past `timeout`, leave them to `up`."""
    from n8nclone.store.event_queries import EventQueries

    queries = EventQueries(services.db)
    pending = queries.runs_to_execute(event_ids, references, since)
    deadline = time.monotonic() + timeout
    delay = 0.005
    while pending:
        progress = {run_id: queries.run_progress(run_id) for run_id in pending}
        pending = [run_id for run_id, p in progress.items()
                   if p is not None and (p[0] not in PARKED or p[1] < since)]
        if pending and time.monotonic() > deadline:
            print(f"note: {len(pending)} run(s) still queued or running after {timeout:g} s; "
                  "a running `n8nclone up` takes them over", file=sys.stderr)
            return
        time.sleep(delay)
        delay = min(0.25, delay * 1.5)


def _wait_for(services, run_id: str, statuses: Sequence[str], timeout: float | None) -> str:
    deadline = time.monotonic() + timeout if timeout else None
    delay = 0.005
    while True:
        status = services.runs.run_status(run_id)
        if status in statuses:
            return status
        if deadline and time.monotonic() > deadline:
            raise CliError(f"run {run_id} is still {status} after {timeout} s")
        time.sleep(delay)
        delay = min(0.25, delay * 1.5)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _print_run(run: dict) -> None:
    header = ["key", "type", "status", "attempts", "duration"]
    rows = [[s["key"], s["type"], s["status"], str(s["attempts"]),
             "" if s["duration_ms"] is None or s["status"] == "skipped"
             else f"{s['duration_ms']} ms"] for s in run["steps"]]
    usage = run.get("usage") or {}
    if usage.get("metered_steps"):  # AI steps ran: their model, tokens and cost
        header += ["model", "tokens", "cost"]
        for row, step in zip(rows, run["steps"], strict=True):
            used = step.get("usage") or {}
            row += [used.get("model") or "", _tokens(used) if used else "",
                    _cost(used.get("cost_usd")) if used else ""]
    print(_table(header, rows))
    total = "" if run["duration_ms"] is None else f" in {run['duration_ms']} ms"
    print(f"\nrun {run['id']} {run['status']}{total}")
    if usage.get("metered_steps"):
        print(f"AI usage: {_tokens(usage)} tokens, cost {_cost(usage.get('cost_usd'))}")
    if run.get("error"):
        # Why the run failed is an error message: stderr, naming the step it came from.
        error = run["error"]
        where = f"step '{error['node']}' failed: " if error.get("node") else ""
        print(f"error: {where}{error.get('message')}", file=sys.stderr)


def _tokens(usage: dict) -> str:
    """"total (prompt + completion)"."""
    return (f"{usage.get('total_tokens') or 0} ({usage.get('prompt_tokens') or 0} + "
            f"{usage.get('completion_tokens') or 0})")


def _cost(cost_usd: float | None) -> str:
    return "unknown" if cost_usd is None else f"${cost_usd:.6f}"


# -- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="n8nclone", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the app: UI, API, webhooks and (embedded) workers")
    up.add_argument("--port", type=int, help="port to serve on (default 3000)")
    up.set_defaults(func=cmd_up)

    worker = sub.add_parser("worker", help="run a worker process (needs REDIS_URL)")
    worker.add_argument("--threads", type=int, help="worker threads (default 8)")
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("scheduler", help="start scheduled workflows' runs (also runs inside `up`)"
                   ).set_defaults(func=cmd_scheduler)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    workflow = sub.add_parser("workflow", help="import, export or list workflows")
    wsub = workflow.add_subparsers(dest="workflow_command", required=True, metavar="ACTION")
    imp = wsub.add_parser("import", help="save a workflow file (a new version if it exists)")
    imp.add_argument("file", help="path to the JSON workflow file, or - for standard input")
    imp.set_defaults(func=cmd_workflow_import)
    exp = wsub.add_parser("export", help="print a workflow file")
    exp.add_argument("name")
    exp.add_argument("--output", "-o", help="write to this file instead")
    exp.set_defaults(func=cmd_workflow_export)
    wsub.add_parser("list", help="list workflows").set_defaults(func=cmd_workflow_list)

    run = sub.add_parser("run", help="start a run of a workflow")
    run.add_argument("name", help="workflow name or id")
    run.add_argument("--data", help="the trigger input, as JSON")
    _add_wait_options(run)
    run.set_defaults(func=cmd_run)

    cancel = sub.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id")
    cancel.set_defaults(func=cmd_cancel)

    rerun = sub.add_parser("rerun", help="start a finished run again: a new run of the same "
                           "workflow version, every step executed anew")
    rerun.add_argument("run_id")
    rerun.add_argument("--data", help="a new trigger input, as JSON (default: the run's)")
    _add_wait_options(rerun)
    rerun.set_defaults(func=cmd_rerun)

    retry = sub.add_parser("retry", help="retry a failed or cancelled run from the step it "
                           "stopped at (the steps that succeeded are kept, not run again)")
    retry.add_argument("run_id")
    _add_wait_options(retry)
    retry.set_defaults(func=cmd_retry)
    event_key = sub.add_parser("event-key", help="create, list or delete event keys")
    ksub = event_key.add_subparsers(dest="event_key_command", required=True, metavar="ACTION")
    kcreate = ksub.add_parser("create", help="create a key for POST /e/<key> (printed once)")
    kcreate.add_argument("--name", help="a name to tell keys apart (default: generated)")
    kcreate.set_defaults(func=cmd_event_key_create)
    ksub.add_parser("list", help="list event keys (masked)").set_defaults(
        func=cmd_event_key_list)
    kdelete = ksub.add_parser("delete", help="revoke an event key")
    kdelete.add_argument("name")
    kdelete.set_defaults(func=cmd_event_key_delete)

    user = sub.add_parser("user", help="create or list users (who may log in)")
    usub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    ucreate = usub.add_parser("create", help="create a user who may log in")
    ucreate.add_argument("email")
    ucreate.add_argument("--password", help="at least 8 characters (- reads it from standard "
                         "input; without --password it is asked for)")
    ucreate.set_defaults(func=cmd_user_create)
    usub.add_parser("list", help="list users").set_defaults(func=cmd_user_list)

    api_key = sub.add_parser("api-key", help="create, list or delete API keys (for scripts "
                             "using the HTTP API)")
    asub = api_key.add_subparsers(dest="api_key_command", required=True, metavar="ACTION")
    acreate = asub.add_parser("create", help="create a key for 'Authorization: Bearer <key>' "
                              "(printed once)")
    acreate.add_argument("--name", help="a name to tell keys apart (default: generated)")
    acreate.set_defaults(func=cmd_api_key_create)
    asub.add_parser("list", help="list API keys (masked)").set_defaults(func=cmd_api_key_list)
    adelete = asub.add_parser("delete", help="revoke an API key")
    adelete.add_argument("name")
    adelete.set_defaults(func=cmd_api_key_delete)

    credential = sub.add_parser("credential", help="add, list or delete credentials "
                                "(encrypted secrets that steps use by name)")
    csub = credential.add_subparsers(dest="credential_command", required=True,
                                     metavar="ACTION")
    cadd = csub.add_parser("add", help="add a credential, or replace the one of that name")
    cadd.add_argument("name", help="how workflow steps name it")
    cadd.add_argument("--type", required=True,
                      help="llm_api_key, http_header, http_basic or bearer_token")
    cadd.add_argument("--value", help="the secret (- reads it from standard input; without "
                      "--value it is asked for). http_header: 'Header-Name: secret'; "
                      "http_basic: 'user:password'")
    cadd.set_defaults(func=cmd_credential_add)
    csub.add_parser("list", help="list credentials (masked)").set_defaults(
        func=cmd_credential_list)
    cdelete = csub.add_parser("delete", help="delete a credential")
    cdelete.add_argument("name")
    cdelete.set_defaults(func=cmd_credential_delete)

    send = sub.add_parser("send-event", help="send an event (starts and resumes runs)")
    send.add_argument("name", help="the event name, e.g. order/created")
    send.add_argument("--data", help="the event data, as JSON (default {})")
    send.add_argument("--id", help="an id for idempotency: a repeat within 24 h is ignored")
    send.add_argument("--timeout", type=float, default=60,
                      help="embedded default: how long to execute the runs it starts "
                           "(default 60 s)")
    send.set_defaults(func=cmd_send_event)
    return parser


def _add_wait_options(command: argparse.ArgumentParser) -> None:
    """The options of commands that start a run: wait for it, print it."""
    command.add_argument("--wait", action="store_true",
                         help="wait for the run and print its steps")
    command.add_argument("--json", action="store_true", help="print the run as JSON")
    command.add_argument("--timeout", type=float,
                         help="give up waiting after this many seconds")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except (CliError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UserInputError as exc:
        print(f"error: {exc.headline}", file=sys.stderr)
        for line in exc.details:
            print(f"  - {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from sqlalchemy.exc import OperationalError

        # The database is down, unreachable or not writable: say which, not a traceback.
        if isinstance(exc, OperationalError):
            reason = str(exc.orig).strip().splitlines()[0]
        elif isinstance(exc, OSError) and exc.filename:
            reason = f"{exc.strerror}: {exc.filename}"
        else:
            raise
        print(f"error: cannot use the database at {_safe_url(settings.database_url)}: {reason}",
              file=sys.stderr)
        return 2


def _safe_url(url: str) -> str:
    """A database URL fit to print: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001  an unparsable URL is printed as the user wrote it
        return url


if __name__ == "__main__":
    sys.exit(main())
