"""`lab init`: write `.env` from the committed `.env.example`, generating every secret."""

from __future__ import annotations

import difflib
import io
import os
import re
import secrets
import string
from pathlib import Path

from lab import RESOURCES
from lab.config import SECTION_TYPES
from lab.errors import ConfigError, Problem, UsageError

GENERATED = "<generated>"
_ALPHABET = string.ascii_letters + string.digits
_LINE = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def example_path() -> Path:
    return RESOURCES / ".env.example"


def secret_lengths() -> dict[str, int]:
    out: dict[str, int] = {}
    for section in SECTION_TYPES.values():
        out.update(section.secret_keys(generated_only=True))
    return out


def generate_secret(length: int) -> str:
    """Letters and digits only: safe in shell, LDIF, SQL, URLs and YAML without quoting."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def render_env(example: str, overrides: dict[str, str] | None = None) -> str:
    """The example with every `<generated>` secret filled in and `overrides` applied."""
    overrides = dict(overrides or {})
    lengths = secret_lengths()
    out = []
    for line in example.splitlines():
        m = _LINE.match(line)
        if m:
            key, value = m.group("key"), m.group("value")
            if key in overrides:
                value = overrides.pop(key)
            elif value == GENERATED:
                value = generate_secret(lengths.get(key, 24))
            line = f"{key}={value}"
        out.append(line)
    out.extend(f"{k}={v}" for k, v in overrides.items())
    return "\n".join(out) + "\n"


def write_env(path: Path, *, force: bool = False, overrides: dict[str, str] | None = None) -> Path:
    """Create `path` (mode 0600). Refuses to overwrite unless `force`, and a project folder that is missing."""
    if not path.parent.is_dir():
        raise ConfigError(
            Problem(f"project folder {path.parent} does not exist", "create it first, or give `-C` an existing folder")
        )
    if path.exists() and not force:
        raise ConfigError(
            Problem(f"{path} already exists", "keep it, or run `lab init --force` to replace it (new secrets)")
        )
    example = example_path().read_text()
    _check_overrides(example, overrides or {})
    text = render_env(example, overrides)
    _validate(text, path)  # nothing is written when what we would write is invalid
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def add_missing_secrets(path: Path) -> list[str]:
    """Append to an existing `.env` the generated secrets it lacks; the names of those added.

    For a `.env` written by an older okta-lab: a stack added since then needs a secret the file does
    not have (e.g. RADIUS_SECRET). Every other line is kept byte for byte; nothing is written when
    nothing is missing (a second run changes nothing) or when the result would not be valid.
    Raises ConfigError when `path` does not exist.
    """
    if not path.is_file():
        raise ConfigError(Problem(f"{path} does not exist", "run `lab init` to create it"))
    text = path.read_text()
    present = {m.group("key") for m in map(_LINE.match, text.splitlines()) if m}
    lengths = secret_lengths()
    added = []
    for line in example_path().read_text().splitlines():
        m = _LINE.match(line)
        if m and m.group("value") == GENERATED and m.group("key") not in present:
            added.append(f"{m.group('key')}={generate_secret(lengths.get(m.group('key'), 24))}")
    if not added:
        return []
    new = text + ("" if text.endswith("\n") or not text else "\n")
    new += "\n# --- secrets added by `lab init --add-missing` (new in this okta-lab version)\n"
    new += "\n".join(added) + "\n"
    _validate(new, path)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return [line.split("=", 1)[0] for line in added]


def parse_sets(items: list[str]) -> dict[str, str]:
    """`--set KEY=VALUE` arguments -> mapping; UsageError naming the first one without `=`."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(Problem(f"--set {item!r} has no value", f"write it as --set {key or 'KEY'}=VALUE"))
        out[key.strip()] = value
    return out


def _check_overrides(example: str, overrides: dict[str, str]) -> None:
    known = [m.group("key") for m in map(_LINE.match, example.splitlines()) if m]
    for section in SECTION_TYPES.values():
        known.extend(k for k in section.env_keys() if k not in known)
    problems = []
    for key in overrides:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]}?" if close else "see .env.example for the keys `lab` reads"
            problems.append(Problem(f"--set {key} is not a configuration key", hint))
    if problems:
        raise UsageError(*problems)


def _validate(text: str, path: Path) -> None:
    from dotenv import dotenv_values

    from lab.config import LabConfig

    raw = dotenv_values(stream=io.StringIO(text), interpolate=False)
    LabConfig.from_mapping({k: (v if v is not None else "") for k, v in raw.items()}, env_file=path)
