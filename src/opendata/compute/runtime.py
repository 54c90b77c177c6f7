"""What a portal process keeps for computations: settings, the worker processes, the
obfuscator pools and a few caches. One ComputeRuntime per application (the plugin owns it).

Everything expensive is created on first use, not at start: an application that never
computes never spawns a worker or fills a pool. ``close()`` (the plugin's lifespan calls it
at shutdown) stops whatever was started.

Settings come from ``OPENDATA_COMPUTE_*`` environment variables (see ComputeSettings) so
that an operator tunes them without touching the host application's Settings.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Mapping

from litestar import Request

from opendata.compute.obfuscators import ObfuscatorPool, ObfuscatorPoolRegistry
from opendata.compute.paillier import DEFAULT_MIN_KEY_BITS, PublicKey
from opendata.compute.protocols import MAX_MODEL_FEATURES, MAX_SCORE_SUBJECTS, MAX_VERIFY_FIELDS, create_process_pool

ENV_PREFIX = "OPENDATA_COMPUTE_"
SUBJECT_SECRET_NAME = "compute_subject_digest"
PUBLIC_KEY_CACHE_SIZE = 256
# close() returns within this: with the server's 1 s grace for requests in flight, well
# inside the 5 s a shutdown may take. A worker still busy then computes for a request that
# is being abandoned anyway, so it is terminated rather than waited for.
SHUTDOWN_SECONDS = 1.5


@dataclass(frozen=True)
class ComputeSettings:
    """Limits and sizes of the compute service; each is ``OPENDATA_COMPUTE_<NAME>``."""

    workers: int = 2
    max_score_batch: int = 5_000
    max_verify_fields: int = 16
    max_model_features: int = 64
    max_authorised_subjects: int = 100_000
    min_key_bits: int = DEFAULT_MIN_KEY_BITS
    max_key_bits: int = 4096
    # r^n values kept ready per registered key: 512 cover a burst of 512 one-field
    # verifications; refilling them costs ~8 ms of CPU each at 2048 bits.
    obfuscator_capacity: int = 512
    max_obfuscator_pools: int = 8
    # Keys: active (unrevoked) keys per organisation, registration attempts per hour.
    max_active_keys: int = 3
    key_registrations_per_hour: int = 6
    # Per licence and local day (compute/probing.py): computations of one subject, guesses at
    # one field of one subject, and the counts past which an alert is raised.
    max_subject_computations_per_day: int = 20
    max_field_guesses_per_day: int = 10
    probe_alert_subject: int = 10
    probe_alert_field: int = 5
    # Hidden queries over at most this many subjects use one vector instead of a grid.
    hidden_query_linear_max: int = 64
    # Jobs (compute/jobs/): subjects per chunk (one task of the engine), per job, how long a
    # result is kept, jobs coordinated at once per process, unfinished jobs per licence, and
    # how long a running job may go without a heartbeat before it counts as lost.
    job_chunk_subjects: int = 500
    job_max_subjects: int = 200_000
    job_result_seconds: int = 86_400
    job_runners: int = 2
    max_active_jobs_per_licence: int = 4
    job_stale_seconds: int = 120
    # The Dask scheduler jobs run on (tcp://host:8786); empty: the local worker processes.
    dask_scheduler: str = ""

    TEXT_SETTINGS = ("dask_scheduler",)

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if name in self.TEXT_SETTINGS:
                if not isinstance(value, str):
                    raise ValueError(f"{ENV_PREFIX}{name.upper()} must be text")
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a positive whole number")
        if self.min_key_bits < DEFAULT_MIN_KEY_BITS:
            raise ValueError(f"{ENV_PREFIX}MIN_KEY_BITS cannot go below {DEFAULT_MIN_KEY_BITS}")
        if self.max_key_bits < self.min_key_bits:
            raise ValueError(f"{ENV_PREFIX}MAX_KEY_BITS is below {ENV_PREFIX}MIN_KEY_BITS")
        if self.max_score_batch > MAX_SCORE_SUBJECTS:
            raise ValueError(f"{ENV_PREFIX}MAX_SCORE_BATCH is at most {MAX_SCORE_SUBJECTS}")
        if self.max_verify_fields > MAX_VERIFY_FIELDS:
            raise ValueError(f"{ENV_PREFIX}MAX_VERIFY_FIELDS is at most {MAX_VERIFY_FIELDS}")
        if self.max_model_features > MAX_MODEL_FEATURES:
            raise ValueError(f"{ENV_PREFIX}MAX_MODEL_FEATURES is at most {MAX_MODEL_FEATURES}")

    @property
    def caps(self) -> "Caps":
        from opendata.compute.probing import Caps

        return Caps(self.max_subject_computations_per_day, self.max_field_guesses_per_day,
                    self.probe_alert_subject, self.probe_alert_field)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ComputeSettings":
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None and field.name in cls.TEXT_SETTINGS:
                values[field.name] = raw.strip()
            elif raw is not None:
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{field.name.upper()}: not a whole number: {raw!r}") from None
        return cls(**values)


class ComputeRuntime:
    """The process pool, the obfuscator pools and caches of one application."""

    def __init__(self, settings: ComputeSettings | None = None) -> None:
        self.settings = settings or ComputeSettings()
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._pools: ObfuscatorPoolRegistry | None = None
        self._public_keys: collections.OrderedDict[str, PublicKey] = collections.OrderedDict()
        self._subject_secret: bytes | None = None
        self._jobs: Any = None

    def __deepcopy__(self, memo: dict[int, Any]) -> "ComputeRuntime":
        # Litestar deep-copies route registrations, and with them the plugin whose bound
        # methods provide dependencies. There is one runtime per application: share it.
        return self

    @property
    def executor(self) -> ProcessPoolExecutor:
        """The worker processes (spawned on the first computation, then reused)."""
        with self._lock:
            if self._executor is None:
                self._executor = create_process_pool(self.settings.workers)
            return self._executor

    @property
    def jobs(self) -> Any:
        """The jobs this process coordinates (compute/jobs/runner.py), created on first use."""
        from opendata.compute.jobs.runner import JobRunner

        with self._lock:
            if self._jobs is None:
                self._jobs = JobRunner(self)
            return self._jobs

    def pool_for(self, public_key: PublicKey) -> ObfuscatorPool:
        """The key's obfuscator pool; creating it starts its background filler."""
        with self._lock:
            if self._pools is None:
                self._pools = ObfuscatorPoolRegistry(
                    max_pools=self.settings.max_obfuscator_pools, capacity=self.settings.obfuscator_capacity
                )
            registry = self._pools
        return registry.pool_for(public_key)

    def public_key(self, kid: str, n_text: str) -> PublicKey:
        """A registered key, validated once at registration: here only rebuilt (and cached),
        so that every request does not re-parse a 617-digit modulus."""
        with self._lock:
            key = self._public_keys.get(kid)
            if key is not None and str(key.n) == n_text:
                self._public_keys.move_to_end(kid)
                return key
        key = PublicKey(int(n_text))
        with self._lock:
            self._public_keys[kid] = key
            while len(self._public_keys) > PUBLIC_KEY_CACHE_SIZE:
                self._public_keys.popitem(last=False)
        return key

    def subject_secret(self, database: Any) -> bytes:
        """The HMAC key for subject digests in the audit trail, shared by every process
        through the database. Fetched (or created) in its own committed transaction, so a
        refused request's rollback can never throw away the key its audit record used."""
        if self._subject_secret is None:
            from opendata.secrets import instance_secret

            with database.session() as session:
                secret = instance_secret(session, SUBJECT_SECRET_NAME)
                session.commit()
            self._subject_secret = secret
        return self._subject_secret

    def discard_executor(self) -> None:
        """Forget a broken process pool (a worker died); the next computation starts a new one."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def pool_started(self, kid: str) -> bool:
        """Whether this process has started an obfuscator pool for key ``kid``."""
        with self._lock:
            pools = self._pools
        return pools is not None and pools.has(kid)

    def close(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """Stop pools and workers within ``timeout`` seconds in all, whatever they are doing:
        fillers are asked to stop together, queued work is cancelled, and a worker still
        computing when the time is up is terminated (its request is being abandoned anyway)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            jobs, self._jobs = self._jobs, None
        if jobs is not None:
            jobs.close()  # first: its coordinators stop handing chunks to the workers
        with self._lock:
            executor, self._executor = self._executor, None
            pools, self._pools = self._pools, None
        if pools is not None:
            pools.close(timeout=timeout / 3)
        if executor is not None:
            processes = list(getattr(executor, "_processes", {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.terminate()


def runtime_of(request: Request) -> ComputeRuntime:
    plugin = request.app.state.get("opendata")
    runtime = getattr(plugin, "compute", None)
    if runtime is None:
        raise RuntimeError("the compute endpoints need the OpenDataPlugin on the application")
    return runtime
