"""glibc's malloc in a worker: large blocks go back to the system once freed.

/oauth/token checks the client secret with scrypt, which needs a 16 MiB
block, in one of the threadpool's threads (auth/server/adapter.py). glibc
raises its mmap threshold after the first such block is freed, so the later
ones come from the thread's own arena, which keeps the 16 MiB after the hash
is done. In `make soak` a worker's memory stepped up by 16 MiB each time
another thread served a token request, and a threadpool has up to 40
threads. A fixed threshold (mallopt M_MMAP_THRESHOLD) gives every block of
4 MiB or more its own mapping, unmapped when it is freed, and smaller ones
stay in the arenas as before.
"""

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD_BYTES = 4 * 1024 * 1024


def pin_mmap_threshold(threshold: int = THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl, macOS: no mallopt to call
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
