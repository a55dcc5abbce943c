"""The project's shared vocabulary: enums and failure codes every layer may read.

Standard library only, and nothing from the project: the import contracts let bot, jobs, db and
model all depend on it, so a state or a failure means the same thing wherever it is seen.
"""
