"""A member's /video request, before and after validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jobs.prompt_flags import FlagReport
from model.contract import DEFAULT_UPLOAD_LIMIT_BYTES, ClipSpec
from model.presets import Preset


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """As typed: nothing here is trusted yet."""

    guild_id: int
    channel_id: int
    user_id: int
    user_name: str
    options: Mapping[str, object] = field(default_factory=dict)
    """The clip options the member gave, by /video option name (jobs.clip_options lists and checks them), the
    prompt's flags not yet applied (jobs.prompt_flags); an option left out, or None, takes the preset's default."""
    max_bytes: int = DEFAULT_UPLOAD_LIMIT_BYTES
    role_ids: frozenset[int] = frozenset()  # for role tiers and the unlimited role
    locale: str = "en-US"
    """The member's Discord locale, kept on the job: its status, post and failure notice are written in it."""
    parent_channel_id: int | None = None
    """A thread's channel (jobs.server_rules treats a thread as its parent); None elsewhere."""
    age_restricted: bool = False
    """Whether Discord marks the channel age-restricted (a thread: its parent), where a server may allow what is
    marked sensitive (jobs.server_rules)."""


@dataclass(frozen=True, slots=True)
class ValidRequest:
    """Checked and fully resolved: the clip it describes and what it costs (what admission charges, to the credit)."""

    request: VideoRequest
    preset: Preset
    clip: ClipSpec
    cost: int
    flags: FlagReport = field(default_factory=FlagReport)
    """What the prompt's flags did, for the first answer to say."""
