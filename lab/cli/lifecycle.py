"""`lab up`, `down`, `destroy`, `reset`."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from lab import fingerprint
from lab.card import CardEntry, demo_card
from lab.cli.common import console, err_console, lab_context, note, print_card
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import Problem, UsageError
from lab.pipeline import UpResult, destroy, destroy_question, down, load_config, reset, reset_services, up
from lab.state import DockerLocal, NativeHosts
from lab.targets.base import ServiceState


def register(app: typer.Typer) -> None:
    app.command("up")(up_cmd)
    app.command("down")(down_cmd)
    app.command("destroy")(destroy_cmd)
    app.command("reset")(reset_cmd)


def _progress_table(states: list[ServiceState], elapsed: float) -> Table:
    table = Table("service", "state", "waiting for", title=f"waiting for health checks ({elapsed:.0f}s)")
    for s in states:
        waiting = (
            "" if s.ready else (s.detail or f"container to become {'healthy' if s.state == 'running' else 'running'}")
        )
        table.add_row(s.service, f"{s.state}/{s.health}", escape(waiting[:80]))
    return table


def up_cmd(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks or services (default: LAB_STACKS)."),
    host: str = typer.Option(
        "", "--host", help="Run on a remote Docker host over SSH: an inventory name or [USER@]HOST[:PORT]."
    ),
    identity: Path | None = typer.Option(None, "--identity", "-k", help="SSH private key file (with --host)."),
    become_file: Path | None = typer.Option(
        None,
        "--become-password-file",
        help="File (mode 0600) holding the remote SSH user's sudo password (default: $LAB_BECOME_PASSWORD_FILE).",
    ),
    ask_become: bool = typer.Option(
        False, "--ask-become-pass", "-K", help="Ask for the remote SSH user's sudo password."
    ),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the images from the base image, without cache."),
    creds: bool = typer.Option(False, "--creds", help="Show passwords and tokens on the card (as `lab creds`)."),
) -> None:
    """Build what changed, start the services, wait until healthy, print the demo card."""
    lab = lab_context(ctx)
    config = load_config(lab)
    notes = [wildcard_warning(config)] if config.core.publishes_everywhere else []
    for line in notes:
        note(line)
    if host or _recorded_remote(lab):
        from lab.cli.host import become_password, print_remote_up  # the remote Docker host target

        become = become_password(become_file, ask_become, host or "the remote host's SSH user")
        print_remote_up(lab, names or [], host, identity, become)  # no --host: the recorded one
        return
    if identity:
        raise UsageError(Problem("--identity is for `lab up --host HOST`", "add --host, or leave out -k"))
    if become_file or ask_become:
        raise UsageError(
            Problem("--become-password-file and -K are for `lab up --host HOST`", "add --host, or leave them out")
        )
    started = time.monotonic()
    recorder = NoopRecorder(lab, config, names or [])
    with Live(console=err_console, transient=True, refresh_per_second=4) as live:

        def on_update(states: list[ServiceState], elapsed: float) -> None:
            live.update(_progress_table(states, elapsed))

        result = up(
            lab, names or [], on_update=on_update, on_step=lambda m: live.console.print(f"› {m}"), rebuild=rebuild
        )
    if print_dry_run(result):
        return
    for comp, why in result.selection.skipped:
        notes.append(f"{comp.service} skipped: {why}")
        note(notes[-1])
    if result.built:
        note(f"built {', '.join(result.built)}")
    if isinstance(result.record, NativeHosts):  # values true for the hosts, read over SSH
        from lab.datafiles import lab_data_files

        with lab_data_files(lab) as files:
            card = demo_card(config, result.selection.components, reveal=creds, files=files)
    else:
        card = demo_card(config, result.selection.components, reveal=False, data_dir=lab.data_dir)
        recorder.record(result, card, notes)  # before printing: a closed pipe must not lose it
        if creds:
            card = demo_card(config, result.selection.components, reveal=True, data_dir=lab.data_dir)
    console.print(f"lab is up: {', '.join(result.selection.services)} healthy in {time.monotonic() - started:.1f}s")
    print_card(card)
    if not creds and any(e.secret for e in card):
        console.print("(passwords hidden: `lab creds` shows them)")


def _recorded_remote(lab: LabContext) -> bool:
    """True when this folder's lab runs on a remote Docker host (`lab up` then resumes it there)."""
    from lab.state import DockerRemote, LabState

    state = LabState.load(lab)
    return state is not None and isinstance(state.target, DockerRemote)


class NoopRecorder:
    """Takes the fingerprint of the inputs before `lab up` runs and records it when the run
    succeeded and nothing changed meanwhile: the next `lab up` with the same arguments is then
    answered by `lab.fingerprint.fast_up` without rendering, compose or waiting."""

    def __init__(self, lab: LabContext, config: LabConfig, names: list[str]) -> None:
        self.lab, self.names, self.project = lab, names, config.core.project
        self.env_path = lab.env_path.resolve()
        self.watched = watched_paths(lab, config)
        self.inputs = ""
        if not lab.dry_run:
            fingerprint.forget(lab.lab_dir)
            self.inputs = fingerprint.inputs_digest(lab.root, self.env_path, names, self.watched)

    def record(self, result: UpResult, card: list[CardEntry], notes: list[str]) -> None:
        if result.dry_run or not self.inputs or not isinstance(result.record, DockerLocal):
            return
        if fingerprint.inputs_digest(self.lab.root, self.env_path, self.names, self.watched) != self.inputs:
            return  # something changed while we ran: the next `lab up` does the full run
        fingerprint.record(
            self.lab.root,
            self.inputs,
            self.names,
            self.project,
            result.selection.services,
            self.watched,
            [(e.service, e.label, e.value, e.secret) for e in card],
            notes,
        )


def watched_paths(lab: LabContext, config: LabConfig) -> list[str]:
    """Files outside the checkout that rendering reads, by what the config names."""
    from lab.company import PACKAGED

    paths = [] if config.core.company in PACKAGED else [str(Path(config.core.company).resolve())]
    paths += [str(Path(p).resolve()) for p in config.core.extra_ca_paths]
    ops = config.scim.operations_file
    if ops:
        paths.append(str(ops if ops.startswith("/") else lab.root / ops))
    return paths


def wildcard_warning(config: LabConfig) -> str:
    """The note for a wildcard LAB_BIND: the lab's ports are then reachable from the network."""
    return (
        f"LAB_BIND={config.core.bind} publishes every lab port on all interfaces; "
        "set LAB_BIND=127.0.0.1 (and use SSH tunnels) unless you mean it"
    )


def print_dry_run(result: UpResult) -> bool:
    """For a dry run: say so (the commands were shown above) and return True."""
    if not result.dry_run:
        return False
    console.print(
        f"dry run: the commands above would bring up {', '.join(result.selection.services)} on "
        f"{result.record.where}; nothing was written, started or waited for"
    )
    return True


def down_cmd(ctx: typer.Context) -> None:
    """Stop and remove the containers (stop the units, on native hosts); data is kept."""
    lab = lab_context(ctx)
    if not lab.dry_run:
        fingerprint.forget(lab.lab_dir)
    where = down(lab)
    if isinstance(where, NativeHosts):
        console.print(
            f"lab is down on {where.where}: its units are stopped, their data is kept "
            "(`lab up` starts them again, `lab destroy` removes them)",
            soft_wrap=True,
        )
        return
    console.print("lab is down; data/ is kept (`lab up` resumes, `lab destroy` removes it)")


def destroy_cmd(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove containers, networks AND all lab data (data/, .lab/). Asks first."""
    lab = lab_context(ctx)
    if not yes and not typer.confirm(destroy_question(lab)):
        raise typer.Exit(1)
    removed = destroy(lab)
    verb = "dry run: would remove" if lab.dry_run else "removed"
    console.print(f"{verb} {', '.join(removed) or 'nothing (no lab here)'}")


def reset_cmd(
    ctx: typer.Context,
    stacks: list[str] = typer.Argument(None, help="Stacks to reset (default: every running one)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Back to the golden state: remove a stack's data, then bring it up again."""
    lab = lab_context(ctx)
    names = reset_services(lab, stacks or [])
    if not yes and not typer.confirm(f"Erase the data of {', '.join(names)} and start them fresh?"):
        raise typer.Exit(1)
    if not lab.dry_run:
        fingerprint.forget(lab.lab_dir)
    reset(lab, names)
    console.print(f"{'dry run: would reset' if lab.dry_run else 'reset'} {', '.join(names)} to the golden state")
