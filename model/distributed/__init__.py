"""Rendering on many GPU machines through arq and Redis (QUEUE_URL).

The bot's side is `backend.ArqBackend`, a RenderBackend; the GPU machines run `worker` (`python -m model worker`),
which drives the same RenderRuntime as the local worker process. What crosses Redis is JSON, never pickle
(`wire`); the finished MP4 and poster come back through Redis too, so workers need no shared disk.
The bot's database stays the source of truth: Redis only carries work and news about it.
"""
