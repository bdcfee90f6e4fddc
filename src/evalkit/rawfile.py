"""Open raw files read-only, once, with their SHA-256 (shared by the export and XLSForm readers)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evalkit import paths
from evalkit.errors import RawDataError


def read_bytes(path: Path | str) -> bytes:
    """Read a raw file read-only, with a clear error if it is missing.

    Only regular files inside the project are read (see
    :func:`evalkit.paths.require_regular_file`): a FIFO would block forever.
    """
    path = paths.require_regular_file(Path(path))
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        present = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
        raise RawDataError(f"The raw file {path} does not exist. Files in {path.parent}: "
                           f"{', '.join(present) or 'none'}. Check the file name under 'raw' in the "
                           f"params file.") from None
    except IsADirectoryError:
        raise RawDataError(f"The raw file {path} is a folder, not a file; check 'raw' in the params file.") from None


def sha256_hex(data: bytes) -> str:
    """SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()
