"""Settings for every process (the bot, the model CLI, later the gallery and remote workers).

Read from the environment and `.env` (the environment wins) by settings.environment, grouped in
sections (settings.sections, settings.database) that each process loads as it needs them, and
composed for the bot in settings.bot. Every problem is one line naming the setting.
"""
