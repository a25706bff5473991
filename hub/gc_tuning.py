"""Garbage collection for a long-running worker: no full pass over start-up's heap.

With CPython's defaults a worker under load ran a collection of the oldest
generation every second or two, each walking every object the process holds
(the schema, the ORM's metadata, the modules): 150-300 ms each, measured on
a single-lookup load (bench/, BENCHMARKS.md), and the slowest answers were
those that waited for one. What start-up built lives as long as the worker,
so it is frozen (`gc.freeze`: moved out of every later collection); then the
oldest generation holds only what requests left behind (caches, pooled
connections), and its collections take a few milliseconds.

The youngest generation is collected after YOUNG_THRESHOLD net allocations
instead of 700. A request allocates hundreds of container objects, nearly
all freed by reference counting when it ends; at 700 a collection ran every
few requests, walked the objects of the requests then in flight and pushed
them into older generations, whose collections followed. On a cached
single-lookup load this cut the collector's time from about 5 % of a
worker's CPU to about 1.5 % (BENCHMARKS.md). What does end up in a cycle
waits a little longer to be freed: at most YOUNG_THRESHOLD objects.
"""

import gc

YOUNG_THRESHOLD = 10_000
_defaults: list[tuple[int, int, int]] = []


def settle_heap() -> None:
    """Keep everything the process holds now out of later collections, and
    collect the youngest generation less often.

    No collection first: freezing is a constant-time splice of the
    collector's lists, but a full collection of a large heap (a test process
    that has built hundreds of apps) takes seconds. The little garbage
    start-up leaves in cycles is then kept, once.
    """
    gc.freeze()
    thresholds = gc.get_threshold()
    if not _defaults:
        _defaults.append(thresholds)
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])


def release_heap() -> None:
    """At shutdown: what was frozen may be collected again (an app made and
    stopped in a longer-lived process, as the tests do, leaves nothing behind),
    and the thresholds are CPython's again."""
    gc.unfreeze()
    if _defaults:
        gc.set_threshold(*_defaults.pop())
