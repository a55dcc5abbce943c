"""`python -m bot --check` with QUEUE_URL: Redis answers (and which GPU workers it has), or one line, without the
password, and exit status 2."""

from __future__ import annotations

from pathlib import Path

from tests.distributed.conftest import RedisServer, Workers, free_port
from tests.test_setup import TOKEN, check

PASSWORD = "s3cret-redis-pw"


def test_check_says_redis_answers_and_names_the_workers_presets(
    redis_server: RedisServer, workers: Workers, tmp_path: Path
) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    before = check(tmp_path, QUEUE_URL=url)
    workers.start(1)
    after = check(tmp_path, QUEUE_URL=url)

    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    shown = f"queue: Redis at redis://127.0.0.1:{redis_server.port} answers;"
    assert f"{shown} no GPU worker yet (start one with python -m model worker)" in before.stdout.splitlines()
    assert f"{shown} 1 GPU worker(s) serving tiny" in after.stdout.splitlines()
    assert "device: none needed here: GPU workers render (QUEUE_URL)" in after.stdout.splitlines()


def test_check_reports_a_redis_that_does_not_answer_without_its_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    run = check(tmp_path, QUEUE_URL=f"redis://:{PASSWORD}@127.0.0.1:{port}/0")

    assert run.returncode == 2
    [problem] = run.stderr.splitlines()
    assert problem.startswith(f"error: QUEUE_URL: Redis at redis://127.0.0.1:{port} does not answer: ")
    output = run.stdout + run.stderr
    assert PASSWORD not in output and TOKEN not in output and "Traceback" not in output
