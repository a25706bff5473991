"""Garbage collection for a long-running worker: no full pass over start-up's heap.

With CPython's defaults a worker under load ran a collection of the oldest
generation every second or two, each walking every object the process holds
(the schema, the ORM's metadata, the modules): 150-300 ms each, measured on
a single-lookup load (bench/, BENCHMARKS.md), and the slowest answers were
those that waited for one. What start-up built lives as long as the worker,
so it is frozen (`gc.freeze`: moved out of every later collection); then the
oldest generation holds only what requests left behind (caches, pooled
connections), and its collections take a few milliseconds.
"""

import gc


def settle_heap() -> None:
    """Keep everything the process holds now out of later collections.

    No collection first: freezing is a constant-time splice of the
    collector's lists, but a full collection of a large heap (a test process
    that has built hundreds of apps) takes seconds. The little garbage
    start-up leaves in cycles is then kept, once.
    """
    gc.freeze()


def release_heap() -> None:
    """At shutdown: what was frozen may be collected again (an app made and
    stopped in a longer-lived process, as the tests do, leaves nothing behind)."""
    gc.unfreeze()
