"""Rendered files, addressed by keys relative to DATA_DIR ("media/12.mp4").

The database stores keys, never host paths, so any process that shares DATA_DIR (or, later, a
store it uploads to) finds the same file. A key that would leave DATA_DIR is refused.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from model.contract import RenderResult, manifest_key, result_from_manifest

log = logging.getLogger(__name__)


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

    def finished_render(self, job_id: int) -> RenderResult | None:
        """The RenderResult of job_id's finished clip, from the manifest the worker writes after the MP4 and
        poster; None when there is none, or when it is malformed or names a file that is not there (logged):
        the job is then rendered again."""
        key = manifest_key(job_id)
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            result = result_from_manifest(json.loads(path.read_text(encoding="utf-8")))
            if not self.exists(result.video.key):
                raise ValueError(f"its video {result.video.key!r} is not there")
        except (OSError, ValueError) as error:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("ignoring the manifest %s of job %s (%s); the clip is rendered again", key, job_id, error)
            return None
        return result
