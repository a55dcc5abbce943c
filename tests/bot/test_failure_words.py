"""Every failure code has words in every language, filled from the details its producers give."""

from __future__ import annotations

import pytest

from bot.messages import CATALOGUES
from bot.refusals import failure_text
from common.failures import Failure, FailureCode

# The details each code is raised with (see common/failures.py); a new code with details needs its row here.
DETAILS: dict[FailureCode, dict[str, str | int]] = {
    FailureCode.PRESET_NOT_SERVED: {"preset_id": "ltx"},
    FailureCode.UPLOAD_REFUSED: {"status": 400},
    FailureCode.WORKER_CRASHED: {"exit_code": -9},
    FailureCode.RENDER_ERROR: {"error": "RuntimeError: boom"},
    FailureCode.ENCODE_ERROR: {"error": "EncodeError: too big"},
    FailureCode.WORKER_UNAVAILABLE: {"error": "OSError: no weights"},
    FailureCode.TOO_MANY_ATTEMPTS: {"attempts": 2},
    FailureCode.UNKNOWN: {"text": "the render failed (RuntimeError: x)"},
}


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
@pytest.mark.parametrize("code", list(FailureCode))
def test_every_failure_code_reads_as_a_sentence(code: FailureCode, locale: str) -> None:
    words = failure_text(Failure(code, DETAILS.get(code, {})), locale)
    assert words and "{" not in words and words != code.value


def test_details_fill_the_words_and_cannot_break_out_of_code_formatting() -> None:
    refused = Failure(FailureCode.UPLOAD_REFUSED, {"status": 403})
    assert failure_text(refused, "en-US") == "Discord refused the upload (403)"
    assert failure_text(refused, "vi") == "Discord từ chối tệp tải lên (403)"
    for locale in CATALOGUES:
        hostile = failure_text(Failure(FailureCode.PRESET_NOT_SERVED, {"preset_id": "x` @everyone `"}), locale)
        assert hostile.count("`") == 2


@pytest.mark.parametrize("attempts", [1, 2])
def test_too_many_attempts_reads_right_for_one_try_and_for_several(attempts: int) -> None:
    """QUEUE_MAX_ATTEMPTS=1 fails a job after its first try: no "1 times"."""
    failure = Failure(FailureCode.TOO_MANY_ATTEMPTS, {"attempts": attempts})
    words = failure_text(failure, "en-US")
    assert words == f"the render crashed the video model on every try ({attempts} in all), so it was not tried again"
    assert "1 times" not in words
    assert failure_text(failure, "vi") == (
        f"việc tạo video làm mô hình ngừng chạy ở mọi lần thử (tổng cộng {attempts} lần), nên mình không thử lại nữa"
    )
