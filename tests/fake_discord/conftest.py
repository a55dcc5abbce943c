"""Makes the fake's fixtures available to its own tests."""

from tests.fake_discord.fixtures import *  # noqa: F403
