"""The SDK's compute jobs (docs/compute.md, Jobs), mixed into OpenDataClient.

``od.score_job(model_id, subjects)`` submits a scoring of a whole list as a job and returns
a :class:`Job`; ``job.wait()`` polls its progress (a tqdm bar when tqdm is installed and
``progress`` is left on) and returns the decrypted result, exactly what ``od.score`` would
have returned for the same subjects. Results are decrypted here, with this client's key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

FINISHED = ("succeeded", "failed", "cancelled", "expired")
POLL_FIRST, POLL_MAX = 0.5, 5.0


class JobFailed(RuntimeError):
    """The job ended without a result (failed, cancelled or expired)."""

    def __init__(self, job: dict[str, Any]) -> None:
        error = job.get("error") or {}
        super().__init__(f"job {job['id']} {job['state']}" + (f": {error.get('code')}: {error.get('message')}"
                                                             if error.get("code") else ""))
        self.job = job


class Job:
    """A submitted job: its id, and methods to follow, cancel and read it."""

    def __init__(self, client: Any, status: dict[str, Any],
                 decode: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.client = client
        self.id: str = status["id"]
        self.last = status
        self._decode = decode

    def __repr__(self) -> str:
        progress = self.last["progress"]
        return f"<Job {self.id} {self.last['state']} {progress['done']}/{progress['total']}>"

    def status(self) -> dict[str, Any]:
        self.last = self.client._get(f"/api/v1/compute/jobs/{self.id}")
        return self.last

    def cancel(self) -> dict[str, Any]:
        self.last = self.client._post(f"/api/v1/compute/jobs/{self.id}/cancel", None)
        return self.last

    def result(self) -> Any:
        """The decrypted result of a succeeded job (OpenDataError 409 before, 410 once purged)."""
        answer = self.client._get(f"/api/v1/compute/jobs/{self.id}/result")
        if self._decode is not None:
            return self._decode(answer)
        if answer["kind"] == "intersection":
            from opendata.compute.psi_client import read_answer

            return read_answer(answer["statistics"], self.client._key().private_key)
        if answer["kind"] != "score":
            raise ValueError(f"a {answer['kind']} job's result is read by the Job its submission returned "
                             "(it knows the layout the selections were built on)")
        return decode_result(self.client._key(), answer)

    def wait(self, *, progress: bool | Callable[[dict[str, Any]], None] = True, timeout: float | None = None,
             poll: float = POLL_FIRST) -> Any:
        """Poll until the job ends, then return its decrypted result. ``progress``: True for a
        tqdm bar (if tqdm is installed; nothing otherwise), a callable to receive each status,
        False for silence. Raises JobFailed if it ends without a result, TimeoutError after
        ``timeout`` seconds (the job goes on: wait again or cancel it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _bar(self.last) if progress is True else None
        try:
            while True:
                status = self.status()
                if callable(progress):
                    progress(status)
                if bar is not None:
                    bar.total = status["progress"]["total"]
                    bar.update(status["progress"]["done"] - bar.n)
                if status["state"] in FINISHED:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"job {self.id} is still {status['state']} after {timeout} s")
                time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
                poll = min(POLL_MAX, poll * 1.5)
        finally:
            if bar is not None:
                bar.close()
        if status["state"] != "succeeded":
            raise JobFailed(status)
        return self.result()


def _bar(status: dict[str, Any]) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=status["progress"]["total"], desc=f"{status['kind']} {status['id']}", unit="chunk")


def decode_result(key: Any, answer: dict[str, Any]) -> Any:
    """A scoring's answer (synchronous or a job's result) decrypted with ``key``."""
    if answer["key_id"] != key.public_key.key_id:
        raise ValueError(f"the result is encrypted under key {answer['key_id']}, not this client's key")
    mode = answer["output_mode"]
    if mode == "decision":
        return {subject: key.decision(c) for subject, c in answer["decisions"].items()}
    if mode == "banded":
        return {subject: key.band(cs) for subject, cs in answer["bands"].items()}
    scale = int(answer["score_scale"])
    return {subject: key.decrypt(c, scale) for subject, c in answer["scores"].items()}


class JobMethods:
    """Mixed into OpenDataClient, whose _get, _post, _send and _key these methods call."""

    def score_job(self, model_id: int, subjects: Sequence[str]) -> Job:
        """Submit a scoring of ``subjects`` (up to the portal's job limit, 200,000 by default)
        as a job; ``.wait()`` on the answer returns what ``score`` returns."""
        self._key()  # type: ignore[attr-defined]  # fail here, not after an hour of computing
        status = self._post("/api/v1/compute/jobs", {"kind": "score", "model_id": int(model_id),  # type: ignore[attr-defined]
                                                     "subjects": list(subjects)})
        return Job(self, status)

    def hidden_query_job(self, dataset_id: str, subjects: Sequence[str], fields: Sequence[str], *,
                         resource_id: str | None = None, where: dict[str, Any] | None = None) -> Job:
        """Hidden queries (匿踪查询) of several subjects as one job: every selection is built
        and proved here, the portal never learns which subjects; ``.wait()`` returns
        ``{subject: {field: value}}``. One query of the grant's day per subject."""
        from opendata.compute.hidden_client import build_selection, read_record
        from opendata.compute.hidden_query import COLS_PURPOSE, ROWS_PURPOSE, Layout
        from opendata.compute.hidden_records import RecordFormat

        from opendata.client_compute import _position

        key = self._key()  # type: ignore[attr-defined]
        layout = self.hidden_query_layout(dataset_id, fields, resource_id=resource_id, where=where)  # type: ignore[attr-defined]
        grid = Layout(**layout["layout"])
        contexts = (self._context(ROWS_PURPOSE), self._context(COLS_PURPOSE))  # type: ignore[attr-defined]
        wanted = list(subjects)
        selections = [build_selection(key, grid, _position(layout["subjects"], s), contexts) for s in wanted]
        body = {"kind": "hidden_query", "dataset": layout["dataset"], "resource": layout["resource"],
                "fields": list(layout["fields"]), "key_id": key.public_key.key_id, "layout": layout["digest"],
                "selections": selections}
        if layout.get("where"):
            body["where"] = dict(layout["where"])
        fmt = RecordFormat.from_json(layout["format"])

        def decode(answer: dict[str, Any]) -> dict[str, Any]:
            return {s: read_record(key, grid, fmt, a, layout["fields"], layout["types"])
                    for s, a in zip(wanted, answer["answers"], strict=True)}

        return Job(self, self._post("/api/v1/compute/jobs", body), decode)  # type: ignore[attr-defined]

    def intersection_job(self, dataset_id: str, field: str, ids: Sequence[Any], *, resource_id: str | None = None,
                         where: dict[str, Any] | None = None, workers: int = 1) -> Job:
        """``intersection_stats`` with the portal's answer run as a job: the offer is read and
        the reply built here (the ids never leave this process in the clear), the reply is
        submitted as an ``intersection`` job; ``.wait()`` returns the ``IntersectionStats``.
        The grant's epsilon is spent when the job succeeds, not if it is cancelled first."""
        _, session, reply = self._intersection_reply(  # type: ignore[attr-defined]
            dataset_id, field, ids, resource_id, where, workers)
        status = self._post("/api/v1/compute/jobs",  # type: ignore[attr-defined]
                            {"kind": "intersection", "session": session, "reply": reply})
        return Job(self, status)

    def job(self, job_id: str) -> Job:
        return Job(self, self._get(f"/api/v1/compute/jobs/{job_id}"))  # type: ignore[attr-defined]

    def jobs(self, state: str | None = None) -> list[dict[str, Any]]:
        """Your licence's jobs, newest first (their status, not their results)."""
        return self._get("/api/v1/compute/jobs", {"state": state} if state else None)  # type: ignore[attr-defined]
