"""Rendered files, addressed by keys relative to DATA_DIR ("media/12.mp4").

The database stores keys, never host paths, so any process that shares DATA_DIR (or, later, a
store it uploads to) finds the same file. A key that would leave DATA_DIR is refused.
"""

from __future__ import annotations

from pathlib import Path


class MediaFiles:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"media key {key!r} points outside DATA_DIR")
        return path

    def exists(self, key: str | None) -> bool:
        return key is not None and self.path(key).is_file()
