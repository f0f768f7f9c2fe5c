"""Atomic file writes: a crash or Ctrl-C mid-write never leaves a half-written file.

Write to a temporary file in the destination folder (same file system, so the
rename is atomic), flush, fsync, then ``os.replace`` over the old name. The
temporary is ``.<name>.<8 random characters>.tmp``; only a process killed outright
(SIGKILL, power loss) leaves one behind, and ``remove_stale_temporaries`` clears them.
"""

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

# What tempfile.mkstemp(prefix=".<name>.", suffix=".tmp") creates: 8 characters of [a-z0-9_].
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


@contextmanager
def atomic_open(path, mode: str = "wb"):
    """Context manager yielding a file object; on success it replaces ``path``, on error it is discarded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # KeyboardInterrupt too: never leave the temporary behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # "No space left on device" alone does not say which file
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def remove_stale_temporaries(folder, names=None) -> list[Path]:
    """Delete the temporaries an interrupted atomic write left in ``folder``; returns what was removed.

    Only files named like this module's temporaries are touched, and with ``names`` only
    those of the given destination names. Call it when no other process writes there.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match and (names is None or match["name"] in names) and entry.is_file() and not entry.is_symlink():
            try:
                entry.unlink()
            except FileNotFoundError:
                continue
            removed.append(entry)
    return removed
