"""Where recordings live: one interface, a local folder and S3 behind it.

Keys are relative to the storage root (the folder, or the bucket prefix), `/`-separated. Callers
validate ids with `names.valid_id` first; backends check again that nothing escapes their root.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lab.errors import LabError
from lab.viewer.names import valid_id

if TYPE_CHECKING:
    from lab.settings.viewer import ViewerSettings


_SOURCE_PART = re.compile(r"^[A-Za-z0-9~_.,+=@ ()\[\]-]+$")


def valid_source_key(key: str) -> bool:
    """A safe key for an original `.asa` recording kept beside the conversions (`sources/...`)."""
    parts = key.split("/")
    return (
        key.endswith(".asa")
        and len(key) <= 1024
        and all(_SOURCE_PART.match(p) and p not in (".", "..") and p.strip() == p for p in parts)
    )


class StorageError(LabError):
    """Storage cannot be reached or refused the request; the message says why (no secrets)."""


class NotFound(StorageError):
    """The requested recording does not exist."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    mtime: float


class Storage(Protocol):
    """What the viewer, the index, `seed` and `sync` need from a storage backend."""

    def describe(self) -> str:
        """A short human description, e.g. `folder /data/recordings` (no secrets)."""
        ...

    def check(self) -> None:
        """Raise StorageError with the reason when the storage cannot be used."""
        ...

    def list(self) -> Iterator[StoredObject]:
        """Every recording object (by extension), in no particular order."""
        ...

    def stat(self, key: str) -> StoredObject: ...

    def read_head(self, key: str, size: int = 65536) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def put_file(self, key: str, path: Path) -> None: ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def put_source(self, key: str, path: Path) -> int:
        """Store an original `.asa` under `key` (see `valid_source_key`); return the stored size."""
        ...

    def presign(self, key: str, *, download: bool = False, seconds: int | None = None) -> str | None:
        """A direct URL for `key` valid `seconds` (default: the configured short lifetime), or
        None when the app must stream it itself."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file behind `key` when the storage is a local folder, else None."""
        ...


class LocalStorage:
    """A folder of recordings (default `data/recordings`), searched recursively."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"folder {self.root}"

    def create(self) -> None:
        """Create the folder (for `seed`, `sync` and a first start)."""
        self.root.mkdir(parents=True, exist_ok=True)

    def check(self) -> None:
        if not self.root.exists():
            raise StorageError(f"recordings folder {self.root} does not exist")
        if not self.root.is_dir():
            raise StorageError(f"recordings folder {self.root} is not a directory")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StorageError(f"recordings folder {self.root} is not readable")

    def list(self) -> Iterator[StoredObject]:
        self.check()
        root = str(self.root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = os.path.relpath(dirpath, root)
            for name in filenames:
                key = name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}"
                if not valid_id(key):  # the rule the routes apply: what is listed can be played
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                yield StoredObject(key, st.st_size, st.st_mtime)

    def path_of(self, key: str) -> Path:
        """The file for `key`, refusing anything that resolves outside the root."""
        if not valid_id(key):
            raise NotFound(f"no recording {key!r}")
        root = self.root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root):
            raise NotFound(f"no recording {key!r}")
        return path

    def stat(self, key: str) -> StoredObject:
        path = self.path_of(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFound(f"no recording {key!r}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc.strerror}") from None
        if not path.is_file():
            raise NotFound(f"no recording {key!r}")
        return StoredObject(key, st.st_size, st.st_mtime)

    def read_head(self, key: str, size: int = 65536) -> bytes:
        self.stat(key)
        with self.path_of(key).open("rb") as fh:
            return fh.read(size)

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def put_file(self, key: str, path: Path) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def put_source(self, key: str, path: Path) -> int:
        if not valid_source_key(key):
            raise StorageError(f"refusing source key {key!r}")
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise StorageError(f"refusing source key {key!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        return target.stat().st_size

    def presign(self, key: str, *, download: bool = False, seconds: int | None = None) -> str | None:
        return None

    def local_path(self, key: str) -> Path | None:
        return self.path_of(key)


def open_storage(settings: ViewerSettings, base: Path = Path(".")) -> Storage:
    """The backend `VIEWER_STORAGE` selects; a relative folder is taken from `base`."""
    if settings.storage == "s3":
        from lab.viewer.s3 import S3Storage

        credentials = None
        if settings.roles_anywhere:
            from lab.viewer.rolesanywhere import credentials as roles_anywhere

            credentials = roles_anywhere(settings, base)
        return S3Storage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            presign_seconds=settings.presign_seconds,
            credentials=credentials,
            ca_bundle=settings.s3_ca_bundle,
        )
    root = Path(settings.recordings_dir)
    return LocalStorage(root if root.is_absolute() else base / root)
