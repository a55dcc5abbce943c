"""`python -m model.probe`: one line naming the device torch would render on, for `python -m bot --check`.

Prints "cuda (<GPU name>, <free> GB free of <total> GB)" or "cpu". The bot's check runs it as its own
process, so the bot's process never imports torch (docs/architecture.md).
"""

from __future__ import annotations

import torch


def describe_device() -> str:
    if not torch.cuda.is_available():
        return "cpu"
    free, total = torch.cuda.mem_get_info(0)
    return f"cuda ({torch.cuda.get_device_name(0)}, {free / 1e9:.1f} GB free of {total / 1e9:.1f} GB)"


if __name__ == "__main__":
    print(describe_device())
