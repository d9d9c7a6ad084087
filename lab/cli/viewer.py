"""`lab viewer serve|seed|sync|assets`: the session-recording viewer."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from lab.cli.common import console, err_console, lab_context, note, print_json
from lab.viewer.settings import load_settings
from lab.viewer.storage import LocalStorage, Storage, StorageError, open_storage
from lab.viewer.sync import Syncer, SyncOptions, SyncReport

app = typer.Typer(help="The session-recording viewer.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="viewer")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(0, help="Port (default: VIEWER_PORT)."),
    seed_first_start: bool = typer.Option(
        False, "--seed-first-start", help="Write VIEWER_SEED_COUNT samples when storage is empty."
    ),
) -> None:
    """Run the viewer (development server; the `viewer` service runs the same app)."""
    import uvicorn

    from lab.viewer.app import create_app
    from lab.viewer.seed import seed

    lab = lab_context(ctx)
    settings = load_settings(lab.env_path)
    storage = open_storage(settings, lab.root)
    _create(storage)
    if seed_first_start and settings.seed_count and _empty(storage):
        result = seed(storage, settings.seed_count)
        note(f"seeded {len(result.written)} sample sessions into {storage.describe()}")
    search_db = Path(settings.search_db)
    application = create_app(
        settings, storage, search_db=search_db if search_db.is_absolute() else lab.root / search_db
    )
    note(f"viewer on http://{host}:{port or settings.port} ({storage.describe()})")
    uvicorn.run(
        application,
        host=host,
        port=port or settings.port,
        log_level="info",
        access_log=False,
        proxy_headers=False,  # X-Forwarded-For is read by the app, from VIEWER_TRUSTED_PROXIES only
        server_header=False,
    )


def _create(storage: Storage) -> None:
    if isinstance(storage, LocalStorage):
        storage.create()


def _empty(storage: Storage) -> bool:
    try:
        return next(iter(storage.list()), None) is None
    except StorageError:
        return False


@app.command("seed")
def seed_cmd(
    ctx: typer.Context,
    count: int = typer.Option(0, "--count", "-n", min=0, help="How many (default VIEWER_SEED_COUNT)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write realistic sample SSH sessions (asciicast v2) into the configured storage."""
    from lab.viewer.seed import seed

    lab = lab_context(ctx)
    settings = load_settings(lab.env_path)
    storage = open_storage(settings, lab.root)
    _create(storage)
    storage.check()
    result = seed(storage, count or settings.seed_count)
    if as_json:
        print_json({"written": result.written, "skipped": result.skipped})
        return
    console.print(
        f"wrote {len(result.written)} sample sessions to {storage.describe()} ({result.skipped} already there)"
    )


@app.command()
def sync(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option("--source", help="Folder with .asa recordings.")],
    watch: bool = typer.Option(False, "--watch", help="Keep watching until stopped."),
    delete_after_days: int = typer.Option(
        0, "--delete-after-days", min=0, help="Delete uploaded sources older than N days."
    ),
    interval: float = typer.Option(10.0, "--interval", min=0.1, help="Seconds between scans."),
    settle: float = typer.Option(5.0, "--settle", min=0, help="Skip files younger than this."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Convert .asa recordings with the OPA client (`sft`) and upload them to storage."""

    lab = lab_context(ctx)
    settings = load_settings(lab.env_path)
    storage = open_storage(settings, lab.root)
    options = SyncOptions(source=source, delete_after_days=delete_after_days, settle_seconds=settle, interval=interval)
    _create(storage)
    syncer = Syncer(storage, options)
    if not watch:
        report = syncer.run_once()
    else:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            err_console.print("stopping after the current file…")
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        note(f"watching {source} every {interval:g}s (Ctrl-C to stop)")
        report = syncer.watch(stop, _announce)
    data = {
        "uploaded": report.uploaded,
        "skipped": report.skipped,
        "failed": report.failed,
        "deleted": report.deleted,
    }
    if as_json:
        print_json(data)
    else:
        console.print(
            f"uploaded {len(report.uploaded)}, skipped {report.skipped} already stored, "
            f"failed {len(report.failed)}, deleted {len(report.deleted)} old sources"
        )
    if report.failed:
        raise typer.Exit(1)


def _announce(report: SyncReport) -> None:
    if report.uploaded:
        note(f"uploaded {', '.join(report.uploaded)}")


@app.command()
def assets(
    dest: Annotated[Path | None, typer.Option("--dest", help="Folder for the player files.")] = None,
) -> None:
    """Fetch the pinned asciinema-player files (npm) for `lab viewer serve` and tests."""
    from lab.viewer.assets import PLAYER_VERSION, fetch_player

    path = fetch_player(dest)
    console.print(f"asciinema-player {PLAYER_VERSION} in {path}")
