"""Every `lab` command has help text and a README section."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import typer.main

from lab import RESOURCES
from lab.cli import COMMANDS, app


def commands() -> dict[str, Any]:
    root = typer.main.get_command(app)
    out: dict[str, Any] = {}
    for name in root.list_commands(None):  # type: ignore[attr-defined, arg-type]
        cmd = root.get_command(None, name)  # type: ignore[attr-defined, arg-type]
        assert cmd is not None, name
        out[name] = cmd
        if hasattr(cmd, "commands"):
            for sub, subcmd in cmd.commands.items():
                out[f"{name} {sub}"] = subcmd
    return out


def test_the_help_table_says_what_each_command_says() -> None:
    """`lab --help` reads COMMANDS without importing the modules: the lines must not drift."""
    for name, cmd in commands().items():
        if " " not in name:
            assert COMMANDS[name][1] == cmd.get_short_help_str(limit=300), name


def test_help_imports_no_command_module() -> None:
    code = "import sys; from lab.cli import main; sys.argv=['lab','--help']\ntry:\n main()\nexcept SystemExit: pass\n"
    code += (
        "print(sorted(m for m in sys.modules if (m.startswith('lab.cli.')"
        " and m not in ('lab.cli.common', 'lab.cli.root')) or m in ('pydantic', 'docker', 'ldap3')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout


def test_every_command_has_help() -> None:
    missing = [name for name, cmd in commands().items() if not (cmd.help or "").strip()]
    assert missing == []


def test_every_top_level_command_has_a_readme_section() -> None:
    readme = (RESOURCES / "README.md").read_text()
    top = sorted({name.split()[0] for name in commands()})
    missing = [name for name in top if f"`lab {name}" not in readme]
    assert missing == [], "document these in README.md"


def test_makefile_is_posix_sh() -> None:
    makefile = (RESOURCES / "Makefile").read_text()
    for bashism in ("${!", "&>", "[[", "source ", "function "):
        assert bashism not in makefile, bashism
    for target in ("help", "build", "start", "stop", "restart", "logs", "start-logs", "configure", "up", "test"):
        assert f"\n{target}:" in makefile, target


def test_make_help_runs_under_dash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess

    dash = shutil.which("dash")
    assert dash, "Debian's /bin/sh is dash; install it to run this test"
    proc = subprocess.run(
        ["make", "-s", f"SHELL={dash}", "-C", str(RESOURCES), "help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "start-logs" in proc.stdout and "configure" in proc.stdout
