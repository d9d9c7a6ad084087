#!/usr/bin/env python3
"""Pack files of the okta-lab checkout into one deterministic .tar.gz (run on the controller).

    source_tarball.py SOURCE_DIR DEST PATTERN...

PATTERNs are globs relative to SOURCE_DIR (`lab/scim/*.py`); every one must match a file. The
archive depends only on the files' paths and contents: sorted entries, owner root, mode 0644
(folders 0755), mtime 0, no gzip name or time, so the same sources give the same bytes and
`ansible.builtin.copy` sees no change on a re-run. DEST is rewritten only when its bytes would
differ. Prints `changed <sha256>` or `unchanged <sha256>`; exit 2 on a pattern that matches nothing.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import sys
import tarfile


def build(source: str, patterns: list[str]) -> bytes:
    names: set[str] = set()
    for pattern in patterns:
        found = [p for p in glob.glob(os.path.join(source, pattern)) if os.path.isfile(p)]
        if not found:
            raise SystemExit(f"source_tarball: {pattern!r} matches no file under {source}")
        names.update(os.path.relpath(p, source) for p in found)
    folders = sorted(_parents(names))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for folder in folders:
            tar.addfile(_info(folder, tarfile.DIRTYPE, 0o755, 0))
        for name in sorted(names):
            with open(os.path.join(source, name), "rb") as fh:
                data = fh.read()
            tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    return gzip.compress(buf.getvalue(), compresslevel=6, mtime=0)


def _parents(names: set[str]) -> set[str]:
    out: set[str] = set()
    for name in names:
        parent = os.path.dirname(name)
        while parent:
            out.add(parent)
            parent = os.path.dirname(parent)
    return out


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, dest, patterns = argv[0], argv[1], argv[2:]
    data = build(source, patterns)
    digest = hashlib.sha256(data).hexdigest()
    try:
        with open(dest, "rb") as fh:
            same = fh.read() == data
    except OSError:
        same = False
    if not same:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        tmp = f"{dest}.tmp{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    print(f"{'unchanged' if same else 'changed'} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
