"""The render worker, in three parts:

- protocol: the config and messages between the bot and its worker process (plain data, no torch);
- runtime: loaded pipelines that render a spec and encode the clip, with no process or queue of its
  own, so any host (the local worker process, an arq worker) can drive it;
- process: the local worker process: threads and queues around one runtime.
"""
