"""A cluster run's shared state in Redis, and the atomic steps the workers take on it.

Keys (``P`` = the key prefix, ``T`` = the run's token, a random hex string)::

    P:current            the token of the run in progress (absent: none)
    P:T:run              hash: crawl_run_id (the crawl_runs row), seeder, started_at
    P:T:workers          set of the run's live workers
    P:T:heartbeat:W      present while worker W is alive (expires after the worker timeout)
    P:T:requests         the request queue (scrapy-redis's priority queue: a sorted set)
    P:T:dupefilter       the request fingerprints (scrapy-redis's duplicate filter)
    P:T:taken:W          requests W has popped and not finished (sorted set, same scores)
    P:T:idle             workers with nothing in flight
    P:T:done             set once the queue is empty and every worker is idle: the run ended
    P:T:lost             workers declared dead during the run
    P:T:stats            hash W -> JSON of W's counts (a snapshot every heartbeat, final at close)
    P:T:finished         workers that published their final counts
    P:T:closer           the worker that closes the crawl_runs row

Every step that reads and changes several keys is one Lua script, so two workers never see
each other half-way: a request is always in the queue or in exactly one worker's taken set.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import redis

SEED, JOIN, CLOSING = "seed", "join", "closing"

# A finished run's small keys (counts, who took part) stay this long for a person to look
# at; the queue and the fingerprints are deleted at once.
KEEP_FINISHED_SECONDS = 24 * 3600

_JOIN = """
local prefix, new, me, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local token = redis.call('GET', KEYS[1])
local abandoned = ''
if token then
  local base = prefix .. ':' .. token .. ':'
  if redis.call('EXISTS', base .. 'done') == 1 then return {'closing', token, ''} end
  for _, w in ipairs(redis.call('SMEMBERS', base .. 'workers')) do
    if redis.call('EXISTS', base .. 'heartbeat:' .. w) == 1 then
      redis.call('SADD', base .. 'workers', me)
      redis.call('SET', base .. 'heartbeat:' .. me, '1', 'PX', ttl)
      return {'join', token, ''}
    end
  end
  abandoned = token
end
local base = prefix .. ':' .. new .. ':'
redis.call('SET', KEYS[1], new)
redis.call('SADD', base .. 'workers', me)
redis.call('SET', base .. 'heartbeat:' .. me, '1', 'PX', ttl)
return {'seed', new, abandoned}
"""

_HEARTBEAT = """
local base, me, ttl, stats = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SET', base .. 'heartbeat:' .. me, '1', 'PX', ttl)
-- A worker taken for dead while it was only slow comes back (its taken requests were
-- handed out again: at worst they are fetched twice, never lost).
if redis.call('SADD', base .. 'workers', me) == 1 then redis.call('SREM', base .. 'lost', me) end
if stats ~= '' then redis.call('HSET', base .. 'stats', me, stats) end
return redis.call('EXISTS', base .. 'done')
"""

_RECLAIM = """
local base = ARGV[1]
local moved = 0
local dead = {}
for _, w in ipairs(redis.call('SMEMBERS', base .. 'workers')) do
  -- A worker that published its final counts has nothing taken: it may exit in peace.
  if redis.call('EXISTS', base .. 'heartbeat:' .. w) == 0
      and redis.call('SISMEMBER', base .. 'finished', w) == 0 then
    local taken = redis.call('ZRANGE', base .. 'taken:' .. w, 0, -1, 'WITHSCORES')
    for i = 1, #taken, 2 do
      redis.call('ZADD', base .. 'requests', taken[i + 1], taken[i])
      moved = moved + 1
    end
    redis.call('DEL', base .. 'taken:' .. w)
    redis.call('SREM', base .. 'workers', w)
    redis.call('SREM', base .. 'idle', w)
    redis.call('SADD', base .. 'lost', w)
    table.insert(dead, w)
  end
end
return {moved, dead}
"""

_POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], top[2], top[1])
redis.call('SREM', KEYS[3], ARGV[1])
return top[1]
"""

_PUSH_UNSEEN = """
-- The fingerprint and the queue entry together, or neither: a fingerprint without its
-- request would hide the page from the worker that takes over its parent.
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_IDLE = """
local base, me = ARGV[1], ARGV[2]
-- Called only when this worker's engine is idle: whatever it took, it has finished.
redis.call('DEL', base .. 'taken:' .. me)
redis.call('SADD', base .. 'idle', me)
if redis.call('EXISTS', base .. 'done') == 1 then return 1 end
if redis.call('ZCARD', base .. 'requests') > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', base .. 'workers')) do
  if redis.call('SISMEMBER', base .. 'idle', w) == 0 then return 0 end
  if redis.call('ZCARD', base .. 'taken:' .. w) > 0 then return 0 end
end
redis.call('SET', base .. 'done', '1')
return 1
"""

_RETIRE = """
local current, token, base, keep = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
for _, w in ipairs(redis.call('SMEMBERS', base .. 'workers')) do
  redis.call('DEL', base .. 'taken:' .. w)
end
-- (Heartbeats expire by themselves; workers still reading the counts keep theirs.)
redis.call('DEL', base .. 'requests', base .. 'dupefilter', base .. 'idle')
for _, name in ipairs({'run', 'workers', 'done', 'lost', 'stats', 'finished', 'closer'}) do
  redis.call('EXPIRE', base .. name, keep)
end
if redis.call('GET', current) == token then redis.call('DEL', current) end
return 1
"""


@dataclass(frozen=True)
class Membership:
    """How this worker entered the run: ``seed`` (it started the run) or ``join``."""

    role: str
    token: str
    abandoned: str  # the token of a run whose workers all died, replaced by this one

    @property
    def seeds(self) -> bool:
        return self.role == SEED


class ClusterRegistry:
    """One worker's handle on the cluster's shared state."""

    def __init__(self, server: redis.Redis, prefix: str, worker: str, worker_timeout: float):
        self.server = server
        self.prefix = prefix
        self.worker = worker
        self.ttl_ms = int(worker_timeout * 1000)
        self.token: str | None = None
        self._join = server.register_script(_JOIN)
        self._heartbeat = server.register_script(_HEARTBEAT)
        self._reclaim = server.register_script(_RECLAIM)
        self._pop = server.register_script(_POP)
        self._push_unseen = server.register_script(_PUSH_UNSEEN)
        self._idle = server.register_script(_IDLE)
        self._retire = server.register_script(_RETIRE)

    @classmethod
    def from_url(cls, url: str, prefix: str, worker: str, worker_timeout: float) -> "ClusterRegistry":
        return cls(redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10),
                   prefix, worker, worker_timeout)

    # --- keys -------------------------------------------------------------------------
    @property
    def current_key(self) -> str:
        return f"{self.prefix}:current"

    @property
    def base(self) -> str:
        if self.token is None:
            raise RuntimeError("this worker has not joined a cluster run yet")
        return f"{self.prefix}:{self.token}:"

    def key(self, name: str) -> str:
        return self.base + name

    @property
    def queue_key(self) -> str:
        return self.key("requests")

    @property
    def dupefilter_key(self) -> str:
        return self.key("dupefilter")

    @property
    def taken_key(self) -> str:
        return self.key(f"taken:{self.worker}")

    # --- entering the run -------------------------------------------------------------
    def join(self) -> Membership:
        """Join the run in progress, or start one (``seed``) when there is none or when
        every worker of the current one is dead. ``closing``: a run has just ended and its
        workers are writing its verdict; try again in a moment."""
        role, token, abandoned = (
            part.decode() if isinstance(part, bytes) else part
            for part in self._join(keys=[self.current_key],
                                   args=[self.prefix, uuid.uuid4().hex, self.worker, self.ttl_ms])
        )
        if role != CLOSING:
            self.token = token
        if abandoned:
            self._delete_run(abandoned)
        return Membership(role, token, abandoned)

    def _delete_run(self, token: str) -> None:
        """A run all of whose workers died: its queue and fingerprints would hide pages
        from the new run, which starts afresh (the database says what is already stored)."""
        for key in self.server.scan_iter(match=f"{self.prefix}:{token}:*", count=500):
            self.server.delete(key)

    def publish_crawl_run_id(self, crawl_run_id: int) -> None:
        self.server.hset(self.key("run"), mapping={
            "crawl_run_id": crawl_run_id, "seeder": self.worker, "started_at": time.time()})

    def crawl_run_id(self, timeout: float) -> int | None:
        """The run's crawl_runs id, once the seeding worker has opened the row."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.server.hget(self.key("run"), "crawl_run_id")
            if value is not None:
                return int(value)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    # --- during the run ---------------------------------------------------------------
    def heartbeat(self, stats: dict | None = None) -> bool:
        """I am alive (and these are my counts so far); True once the run has ended."""
        payload = json.dumps(stats, default=str) if stats is not None else ""
        return bool(self._heartbeat(args=[self.base, self.worker, self.ttl_ms, payload]))

    def reclaim(self) -> tuple[int, list[str]]:
        """Put the taken requests of every worker whose heartbeat stopped back in the queue;
        returns how many, and which workers were found dead."""
        moved, dead = self._reclaim(args=[self.base])
        return int(moved), [w.decode() for w in dead]

    def pop(self) -> bytes | None:
        """The queue's first request, moved atomically into this worker's taken set."""
        return self._pop(keys=[self.queue_key, self.taken_key, self.key("idle")], args=[self.worker])

    def push_unseen(self, fingerprint: str, score: float, encoded: bytes) -> bool:
        """Queue a request unless its fingerprint was seen in this run (atomically)."""
        return bool(self._push_unseen(keys=[self.dupefilter_key, self.queue_key],
                                      args=[fingerprint, score, encoded]))

    def ack(self, *encoded: bytes) -> None:
        """This worker has finished with these requests it took."""
        self.server.zrem(self.taken_key, *encoded)

    def taken_count(self) -> int:
        return self.server.zcard(self.taken_key)

    def idle(self) -> bool:
        """This worker has nothing in flight; True when the whole run has ended (queue
        empty, every live worker idle)."""
        return bool(self._idle(args=[self.base, self.worker]))

    def lost_workers(self) -> list[str]:
        return sorted(w.decode() for w in self.server.smembers(self.key("lost")))

    # --- the end ----------------------------------------------------------------------
    def finish(self, record: dict) -> None:
        """Publish this worker's final counts (and keep its heartbeat alive meanwhile)."""
        pipe = self.server.pipeline()
        pipe.set(self.key(f"heartbeat:{self.worker}"), "1", px=self.ttl_ms)
        pipe.hset(self.key("stats"), self.worker, json.dumps(record, default=str))
        pipe.sadd(self.key("finished"), self.worker)
        pipe.execute()

    def wait_for_workers(self, timeout: float) -> list[str]:
        """Wait until every live worker has published its final counts; returns the workers
        still missing when ``timeout`` ran out (empty: everyone finished)."""
        deadline = time.monotonic() + timeout
        while True:
            self.reclaim()  # a worker that died while the others closed is not waited for
            workers = {w.decode() for w in self.server.smembers(self.key("workers"))}
            finished = {w.decode() for w in self.server.smembers(self.key("finished"))}
            missing = sorted(workers - finished)
            if not missing or time.monotonic() >= deadline:
                return missing
            self.server.set(self.key(f"heartbeat:{self.worker}"), "1", px=self.ttl_ms)
            time.sleep(0.2)

    def records(self) -> dict[str, dict]:
        """Every worker's last published counts (final ones, or a dead worker's last)."""
        return {w.decode(): json.loads(v) for w, v in self.server.hgetall(self.key("stats")).items()}

    def claim_closer(self) -> bool:
        """True for exactly one worker of the run: the one that closes its crawl_runs row."""
        return bool(self.server.set(self.key("closer"), self.worker, nx=True))

    def retire(self) -> None:
        """The run is over: drop its queue and fingerprints (the next run fetches afresh),
        keep the small keys a day, and let the next run start."""
        self._retire(keys=[self.current_key], args=[self.token, self.base, KEEP_FINISHED_SECONDS])

    def leave(self, record: dict) -> None:
        """A worker stopping before the run ended (a shutdown, its storage failed): its
        counts are kept, it no longer counts as one of the run's workers, and what it had
        taken goes back in the queue for the others."""
        pipe = self.server.pipeline()
        pipe.hset(self.key("stats"), self.worker, json.dumps(record, default=str))
        pipe.delete(self.key(f"heartbeat:{self.worker}"))
        pipe.execute()
        self.reclaim()
