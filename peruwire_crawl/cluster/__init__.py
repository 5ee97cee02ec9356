"""Cluster mode: many ``scrapy crawl peru`` workers sharing one crawl through Redis.

Switched on by one setting, ``PERUWIRE_REDIS_URL`` (or the environment variable of the same
name); without it nothing in this package is used and a crawl runs in one process as
always. docs/scale-out.md tells the operator's side; the parts, each in its own module:

- :mod:`.config` — the cluster's settings, read once (``ClusterConfig``);
- :mod:`.addon` — the Scrapy add-on that switches Scrapy's scheduler to scrapy-redis's and
  enables the components below when the setting is there;
- :mod:`.registry` — the cluster run's shared state in Redis: which run is current, its
  workers and their heartbeats, the per-worker lists of taken requests, end-of-run
  detection, the workers' stats;
- :mod:`.queue` and :mod:`.scheduler` — scrapy-redis's priority queue and scheduler, with a
  reliable hand-over: a popped request moves to the worker's "taken" set and leaves it only
  when the worker has finished with it; a worker whose heartbeat stops has its taken
  requests put back in the queue for the others;
- :mod:`.lock` — the run lock held by the cluster (every worker's PostgreSQL session) rather
  than by one process;
- :mod:`.worker` — the extension that ties one worker's life to the cluster run (join or
  seed, heartbeats, idle, the shared verdict), and the spider middleware that acknowledges
  finished requests and lets only the seeding worker emit the start requests.
"""

REDIS_URL_SETTING = "PERUWIRE_REDIS_URL"
