"""`python -m bot --check`: is this deployment ready to start? Checked without Discord and without weights.

One line per item checked on stdout, then `OK` (exit status 0); any problem is one `error:` line on
stderr naming it (exit status 2). The token is never printed, nor a password in DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
from urllib.parse import quote, urlsplit

from alembic.runtime.migration import MigrationContext

from common.gallery_paths import host_and_port
from db.database import Database
from model.distributed.survey import live_workers
from settings.bot import BotSettings

PROBE_TIMEOUT_SECONDS = 120


class Problem(Exception):
    """One thing that stops the bot from starting; the message names it."""


def run_check(settings: BotSettings) -> int:
    """Print what was checked; returns the exit status (0 ready, 2 a problem to fix)."""
    print("settings: OK")
    problems = 0
    for check in (check_database, check_data_dir, check_preset, check_queue, check_device, check_gallery):
        try:
            print(check(settings))
        except Problem as problem:
            print(f"error: {_redacted(str(problem), settings)}", file=sys.stderr)
            problems += 1
    if problems:
        return 2
    print("OK")
    return 0


def check_database(settings: BotSettings) -> str:
    shown = _redacted(settings.database.url, settings)
    try:
        return asyncio.run(_open_and_migrate(settings.database.url))
    except Exception as error:  # any driver's, any migration's: one line, not a traceback
        raise Problem(f"DATABASE_URL {shown} cannot be opened and migrated: {_one_line(error)}") from None


async def _open_and_migrate(url: str) -> str:
    database = Database(url)
    try:
        await database.migrate()
        async with database.engine.connect() as connection:
            revision = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        return f"database: {database.url.render_as_string(hide_password=True)} at migration {revision}"
    finally:
        await database.dispose()


def check_data_dir(settings: BotSettings) -> str:
    data_dir = settings.media.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir) as probe:
            probe.write(b"promptreel")
    except OSError as error:
        raise Problem(f"DATA_DIR {data_dir} is not writable: {error.strerror or error}") from None
    return f"DATA_DIR: {data_dir} is writable"


def check_preset(settings: BotSettings) -> str:
    """A line per served preset, the default first (and named so when there are several)."""
    served = settings.video.served_presets
    default = "default preset" if len(served) > 1 else "preset"
    return "\n".join(
        f"{'preset' if index else default}: {preset.id} ({preset.repo}): ~{preset.vram_hint_gb:g} GB of GPU memory, "
        f"~{preset.offload_vram_gb:g} GB with VIDEO_OFFLOAD=model"
        for index, preset in enumerate(served)
    )


def check_queue(settings: BotSettings) -> str:
    """With QUEUE_URL, that its Redis answers, and which GPU workers it has now (none yet is not a problem:
    jobs wait for them)."""
    url = settings.queue.url
    if url is None:
        return "queue: a local render worker process (QUEUE_URL unset)"
    shown = f"{url.partition('://')[0]}://{urlsplit(url).hostname or 'localhost'}:{urlsplit(url).port or 6379}"
    try:
        workers = asyncio.run(live_workers(url))
    except Exception as error:  # redis's errors, a refused connection, a bad URL: one line
        raise Problem(f"QUEUE_URL: Redis at {shown} does not answer: {_one_line(error)}") from None
    if not workers:
        return f"queue: Redis at {shown} answers; no GPU worker yet (start one with python -m model worker)"
    served = sorted({preset for worker in workers for preset in worker.presets})
    return f"queue: Redis at {shown} answers; {len(workers)} GPU worker(s) serving {', '.join(served)}"


def check_device(settings: BotSettings) -> str:
    """VIDEO_DEVICE=cpu needs no probe, nor QUEUE_URL (the GPU workers render); otherwise ask torch, in a process of
    its own (model.probe)."""
    setting = settings.video.device
    if settings.queue.url is not None:
        return "device: none needed here: GPU workers render (QUEUE_URL)"
    if setting == "cpu":
        return "device: cpu (VIDEO_DEVICE=cpu)"
    try:
        probe = subprocess.run(
            [sys.executable, "-m", "model.probe"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise Problem(f"the device probe (python -m model.probe) took over {PROBE_TIMEOUT_SECONDS} s") from None
    found = probe.stdout.strip()
    if probe.returncode != 0 or not found:
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        raise Problem(f"PyTorch could not report a device (python -m model.probe): {last}")
    if setting == "cuda" and not found.startswith("cuda"):
        raise Problem("VIDEO_DEVICE is cuda but PyTorch sees no CUDA GPU")
    return f"device: {found} (VIDEO_DEVICE={setting})"


def check_gallery(settings: BotSettings) -> str:
    """That the web gallery can listen where GALLERY_HOST and GALLERY_PORT say (else the bot would not start), and
    where the bot's links will point."""
    gallery = settings.gallery
    links = f"its links point to {gallery.link_base}" if gallery.link_base else "no links to it"
    if gallery.port == 0:
        return f"web gallery: not served by the bot (GALLERY_PORT=0); {links}"
    host = gallery.host.strip("[]")
    address = host_and_port(host, gallery.port)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, gallery.port), family=family):
            pass
    except OSError as error:  # in use, not allowed, or no such address here
        raise Problem(
            f"GALLERY_HOST and GALLERY_PORT: the web gallery cannot listen on {address}: {error.strerror or error}"
        ) from None
    return f"web gallery: can listen on http://{address}; {links}"


def _redacted(text: str, settings: BotSettings) -> str:
    for secret in settings.secrets:
        for form in {secret, quote(secret, safe="")}:  # a URL carries its password percent-encoded
            text = text.replace(form, "***")
    return text


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
