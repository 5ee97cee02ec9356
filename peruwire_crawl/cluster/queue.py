"""scrapy-redis's priority queue with a reliable hand-over.

scrapy-redis pops a request off the shared queue and forgets it: a worker killed before it
finished loses the request for good. Here a pop *moves* the request, in one atomic step,
into the worker's taken set (:meth:`ClusterRegistry.pop`); the worker removes it when it has
finished with it (:meth:`ClusterWorker.ack`), and a worker whose heartbeat stops has its taken requests put
back in the queue by the others (:meth:`ClusterRegistry.reclaim`).

A request is pushed and its fingerprint recorded in one step too (:meth:`push_unseen`), so
a worker killed between the two cannot leave a fingerprint without its request. The
encoding (scrapy-redis's request dicts, pickled) and the priority order are scrapy-redis's.
"""

from __future__ import annotations

from scrapy_redis.queue import PriorityQueue

from peruwire_crawl.cluster.registry import ClusterRegistry

# Where a popped request keeps its encoded form, to be acknowledged by it later. Requests
# made from it (a retry, a redirect) copy their meta and are pushed again: the key is
# removed before encoding, so they never carry another request's identity.
TAKEN_META_KEY = "_peruwire_cluster_taken"


class ReliableQueue(PriorityQueue):
    def __init__(self, server, spider, registry: ClusterRegistry, serializer=None):
        super().__init__(server, spider, key=registry.queue_key, serializer=serializer)
        self.registry = registry

    def _encode_request(self, request):
        request.meta.pop(TAKEN_META_KEY, None)
        return super()._encode_request(request)

    def push_unseen(self, request, fingerprint: str) -> bool:
        """Push unless seen in this run: the duplicate check and the push in one step."""
        return self.registry.push_unseen(fingerprint, -request.priority, self._encode_request(request))

    def pop(self, timeout=0):
        encoded = self.registry.pop()
        if encoded is None:
            return None
        request = self._decode_request(encoded)
        request.meta[TAKEN_META_KEY] = encoded
        return request
