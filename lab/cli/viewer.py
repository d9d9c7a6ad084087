"""`lab viewer serve|seed|sync|assets`: the session-recording viewer."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from lab.cli.common import console, err_console, lab_context, note, print_json
from lab.errors import Problem, UsageError
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
    source: Annotated[
        Path | None, typer.Option("--source", help="Folder with .asa recordings (default VIEWER_SYNC_SOURCE_DIR).")
    ] = None,
    watch: bool = typer.Option(False, "--watch", help="Keep watching (inotify) until stopped."),
    delete_after_days: int = typer.Option(
        -1, "--delete-after-days", min=-1, help="Delete uploaded sources older than N days (default from .env)."
    ),
    delete_after_upload: bool = typer.Option(
        False, "--delete-after-upload", help="Delete each source once its upload is confirmed."
    ),
    upload_source: bool = typer.Option(False, "--upload-source", help="Also upload the original .asa."),
    summary_every: int = typer.Option(-1, "--summary-every", min=-1, help="A summary every N files (0: none)."),
    interval: float = typer.Option(
        10.0, "--interval", min=0.1, help="Seconds between scans (with --watch: between full rescans)."
    ),
    settle: float = typer.Option(5.0, "--settle", min=0, help="Skip files younger than this."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Convert .asa recordings with the OPA client (`sft`) and upload them to storage."""
    from lab.viewer.watch import watch as watch_inotify

    lab = lab_context(ctx)
    settings = load_settings(lab.env_path)
    folder = source or (Path(settings.sync_source_dir) if settings.sync_source_dir else None)
    if folder is None:
        raise UsageError(Problem("no source folder", "pass --source DIR or set VIEWER_SYNC_SOURCE_DIR in .env"))
    storage = open_storage(settings, lab.root)
    options = SyncOptions(
        source=folder,
        delete_after_days=settings.sync_delete_after_days if delete_after_days < 0 else delete_after_days,
        delete_after_upload=delete_after_upload or settings.sync_delete_after_upload,
        upload_source=upload_source or settings.sync_upload_source,
        source_prefix=settings.sync_source_prefix,
        settle_seconds=settle,
        interval=interval,
        summary_every=settings.sync_summary_every if summary_every < 0 else summary_every,
    )
    _create(storage)
    syncer = Syncer(storage, options, on_summary=note)
    if not watch:
        report = syncer.run_once()
    else:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            err_console.print("stopping after the current file…")
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        note(f"watching {folder} (inotify; full rescan every {interval:g}s; Ctrl-C to stop)")
        report = watch_inotify(syncer, stop, _announce)
        note(syncer.summary())
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
            f"failed {len(report.failed)}, deleted {len(report.deleted)} sources"
        )
    if report.failed and not watch:
        raise typer.Exit(1)


def _announce(report: SyncReport) -> None:
    if report.uploaded:
        note(f"uploaded {', '.join(report.uploaded)}")


@app.command()
def assets(
    dest: Annotated[Path | None, typer.Option("--dest", help="Folder for the player files.")] = None,
) -> None:
    """Fetch the pinned asciinema-player and cytoscape files (npm) for `lab viewer serve` and tests."""
    from lab.viewer.assets import GRAPH_VERSION, PLAYER_VERSION, fetch_player

    path = fetch_player(dest)
    console.print(f"asciinema-player {PLAYER_VERSION} and cytoscape {GRAPH_VERSION} in {path}")
