"""Pools of precomputed obfuscators r^n mod n^2, one pool per public key, each value used once.

Every result the server returns is multiplied by a fresh r^n with r uniform in Z_n^*. That
re-randomises the ciphertext completely, so the key holder learns the plaintext and nothing
about how it was computed (e.g. the randomness of Enc(w)^x would otherwise reveal x). The
server has no factorisation, so r is full size and the cost is one 2048-bit exponentiation
mod n^2 (~8 ms at 2048-bit keys) -- no extra assumption, unlike the key holder's DJN trick.

That cost is moved off the request path: a low-priority daemon thread keeps the pool
between ``low_water`` and ``capacity``. gmpy2's ``powmod`` holds the GIL, but
``powmod_base_list`` releases it (measured: two threads run 1.95x faster than one), so the
filler computes in small batches through it and does not stall the asyncio event loop.

Each obfuscator is handed out exactly once: ``take`` pops under a lock and, when the pool
runs dry, computes fresh ones rather than reuse any. A pool notices a fork (pid change) and
discards what it inherited, so two processes never share values.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Sequence

from gmpy2 import mpz

from opendata.compute.paillier import PublicKey

DEFAULT_CAPACITY = 2048
# Values computed per powmod_base_list call: large enough to amortise the GIL hand-off,
# small enough (~130 ms at 2048 bits) that stop() and fresh demand are served promptly.
FILL_BATCH = 16
FILL_BATCH_BITS = 2048


def fill_batch(bits: int) -> int:
    """Values per filler step for a ``bits``-bit key: an r^n costs ~bits^3, so the step
    stays ~130 ms whatever the key size (16 at 2048 bits, 2 at 4096): a stopping pool
    finishes its current step quickly, which bounds how long shutdown waits."""
    return max(1, int(FILL_BATCH * (FILL_BATCH_BITS / max(bits, 1)) ** 3))


class ObfuscatorPool:
    """Thread-safe pool of r^n mod n^2 for one public key."""

    def __init__(
        self,
        public_key: PublicKey,
        *,
        capacity: int = DEFAULT_CAPACITY,
        low_water: int | None = None,
        background: bool = True,
        niceness: int = 10,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.public_key = public_key
        self.capacity = capacity
        self.low_water = max(1, capacity // 2 if low_water is None else min(low_water, capacity))
        self.niceness = niceness
        self._values: collections.deque[mpz] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.produced = 0  # by the filler or fill()
        self.handed_out = 0
        self.computed_on_demand = 0
        if background:
            self.start()

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._fill_forever, name=f"obfuscators-{self.public_key.key_id[:8]}", daemon=True
            )
            self._thread.start()

    def signal_stop(self) -> threading.Thread | None:
        """Ask the filler to stop after its current step; returns the thread to join."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
            return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        thread = self.signal_stop()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    close = stop

    def __enter__(self) -> ObfuscatorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _check_fork(self) -> None:
        # Called with the lock held. After fork() the child owns a copy of the parent's
        # values; using them would hand the same r^n out twice, so drop them.
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._values.clear()
            self._thread = None

    def _fill_forever(self) -> None:
        # Linux applies setpriority() to one thread when given its native id: the filler then
        # yields the CPU to request-path work and only uses otherwise idle cycles.
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.niceness)
        except (AttributeError, OSError):
            pass
        while True:
            with self._lock:
                # Hysteresis: once full, sleep until takers drain below low_water, then refill
                # all the way (refilling after every take would run in tiny batches).
                if len(self._values) >= self.capacity:
                    while not self._stopping and len(self._values) >= self.low_water:
                        self._wake.wait()
                if self._stopping:
                    return
                wanted = min(fill_batch(self.public_key.bits), self.capacity - len(self._values))
            # Computed without the lock (and without the GIL, inside powmod_base_list).
            fresh = self.public_key.obfuscators(wanted)
            with self._lock:
                room = max(0, self.capacity - len(self._values))  # fill() may have raced us
                self._values.extend(fresh[:room])
                self.produced += min(room, len(fresh))

    # --- producing ---------------------------------------------------------------------------
    def fill(self, count: int | None = None) -> int:
        """Synchronously add up to ``count`` values (default: up to capacity); returns how many."""
        with self._lock:
            self._check_fork()
            room = self.capacity - len(self._values)
        wanted = room if count is None else max(0, min(count, room))
        added = 0
        while added < wanted:
            fresh = self.public_key.obfuscators(min(FILL_BATCH * 4, wanted - added))
            with self._lock:
                self._values.extend(fresh)
                self.produced += len(fresh)
            added += len(fresh)
        return added

    # --- consuming ---------------------------------------------------------------------------
    def take_available(self, k: int) -> list[mpz]:
        """Up to ``k`` pooled values without ever computing (never blocks on arithmetic)."""
        if k < 0:
            raise ValueError("k must be non-negative")
        with self._lock:
            self._check_fork()
            count = min(k, len(self._values))
            taken = [self._values.popleft() for _ in range(count)]
            self.handed_out += count
            if len(self._values) < self.low_water:
                self._wake.notify_all()
        return taken

    def take(self, k: int = 1) -> list[mpz]:
        """Exactly ``k`` distinct, never-reused values; computes the shortfall on demand."""
        taken = self.take_available(k)
        missing = k - len(taken)
        if missing:
            taken.extend(self.public_key.obfuscators(missing))
            with self._lock:
                self.computed_on_demand += missing
                self.handed_out += missing
        return taken

    def take_one(self) -> mpz:
        return self.take(1)[0]

    def __len__(self) -> int:
        with self._lock:
            self._check_fork()
            return len(self._values)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "available": len(self._values),
                "capacity": self.capacity,
                "produced": self.produced,
                "handed_out": self.handed_out,
                "computed_on_demand": self.computed_on_demand,
            }


class ObfuscatorPoolRegistry:
    """One pool per public key (by key_id), at most ``max_pools``; the least recently used is stopped."""

    def __init__(self, *, max_pools: int = 16, capacity: int = DEFAULT_CAPACITY, background: bool = True) -> None:
        self.max_pools = max_pools
        self.capacity = capacity
        self.background = background
        self._pools: collections.OrderedDict[str, ObfuscatorPool] = collections.OrderedDict()
        self._lock = threading.Lock()

    def pool_for(self, public_key: PublicKey) -> ObfuscatorPool:
        evicted: list[ObfuscatorPool] = []
        with self._lock:
            pool = self._pools.get(public_key.key_id)
            if pool is None:
                pool = ObfuscatorPool(public_key, capacity=self.capacity, background=self.background)
                self._pools[public_key.key_id] = pool
                while len(self._pools) > self.max_pools:
                    evicted.append(self._pools.popitem(last=False)[1])
            else:
                self._pools.move_to_end(public_key.key_id)
        for old in evicted:
            old.stop(timeout=0)
        return pool

    def close(self, timeout: float = 2.0) -> None:
        """Stop every filler at once, then wait for them all within ``timeout`` in total
        (not per pool: 16 busy pools once made shutdown take ~55 s). The fillers are daemon
        threads, so one still in its last step never keeps the process alive."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        threads = [pool.signal_stop() for pool in pools]
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def has(self, key_id: str) -> bool:
        with self._lock:
            return key_id in self._pools


def obfuscators_for(source: ObfuscatorPool | Sequence[int] | None, count: int, public_key: PublicKey) -> list[mpz]:
    """Exactly ``count`` obfuscators from a pool, an explicit sequence (prefix used, rest computed)
    or nothing (all computed). Blocks on arithmetic for any shortfall."""
    if isinstance(source, ObfuscatorPool):
        if source.public_key != public_key:
            raise ValueError("obfuscator pool belongs to another public key")
        return source.take(count)
    given = [mpz(v) for v in (source or ())]
    if len(given) > count:
        raise ValueError(f"{len(given)} obfuscators given for {count} results")
    return given + public_key.obfuscators(count - len(given))
