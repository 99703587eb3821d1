"""Harvest worker processes: untrusted files are read here, never in the service itself.

Each worker is ``python -m printharvest.watch.worker HOME``: it loads the home's connectors
and rules once, then takes one task at a time (a JSON line on stdin: an inbox and the files
of one job) and answers with one JSON line (records and one-line errors). A worker's
address space is capped (``watch.worker_memory_mb``) and it exits when the service dies. The
service side (:class:`WorkerPool`) kills a worker that runs past the time limit or dies,
reports the task as failed, and starts a fresh worker.

Anything a connector prints goes to stderr, which the service discards (it could carry
file content); the protocol runs on a private copy of the original stdout.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from printharvest.harvest.child import (
    STARTUP_TIMEOUT,
    exit_with_parent,
    harvest_limit,
    kill_child,
    limit_memory,
    stop_child,
)


@dataclass
class Task:
    """One unit of harvest work: files of one job below one inbox."""

    id: int
    job: Any
    root: Path
    files: list[Path]
    limit: float
    started: float = 0.0
    known: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """Path -> (size, mtime_ns, sha256) the service already hashed: not hashed again."""


@dataclass
class TaskResult:
    """What came back for a task: the worker's reply, or why there is none."""

    task: Task
    reply: dict[str, Any] = field(default_factory=dict)
    fatal: str | None = None


class Worker:
    """The service's handle on one worker process."""

    def __init__(self, home: Path,
                 events: queue.Queue[tuple[Worker | None, dict[str, Any] | None]],
                 snapshot: Path | None = None) -> None:
        env = dict(os.environ)
        if snapshot is not None:
            env["PRINTHARVEST_RULES_SNAPSHOT"] = str(snapshot)
        # One thread per numeric library: bounded memory and no oversubscription.
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"
        # The worker's scratch (extracted zip members) lives in a folder of its own below
        # the home, so that what a killed worker leaves behind is removed with it.
        self.scratch = scratch_root(home) / secrets.token_hex(6)
        self.scratch.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(self.scratch)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "printharvest.watch.worker", str(home)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, text=True, encoding="utf-8", bufsize=1,
            start_new_session=os.name == "posix")
        self.ready = False
        self.generation = 0
        self.task: Task | None = None
        self.born = time.monotonic()
        self._events = events
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True,
                         name=f"worker-{self.proc.pid}").start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        with stream:  # closed at end of output, so a finished worker leaves no open pipe
            for line in stream:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self._events.put((self, message))
        self._events.put((self, None))

    def send(self, task: Task) -> None:
        """Hand a task to this (idle, ready) worker."""
        assert self.proc.stdin is not None
        self.task = task
        task.started = time.monotonic()
        line = json.dumps({"task": task.id, "root": str(task.root),
                           "files": [str(f) for f in task.files],
                           "known": {f: list(k) for f, k in task.known.items()}})
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """End the process now (it may be stuck in a hostile file)."""
        kill_child(self.proc)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def stop(self) -> None:
        """Ask the process to finish (end of input), then make sure it is gone."""
        stop_child(self.proc)
        shutil.rmtree(self.scratch, ignore_errors=True)


SCRATCH = ".scratch"


def scratch_root(home: Path) -> Path:
    """Where the home's workers keep their scratch folders."""
    return home / SCRATCH


def clean_scratch(home: Path) -> None:
    """Remove scratch left by workers of an earlier run (killed, or the service was): only
    the service holding the home's lock calls this, so no live worker loses its files."""
    shutil.rmtree(scratch_root(home), ignore_errors=True)


class WorkerPool:
    """At most ``size`` workers; one task each; time limit per task."""

    def __init__(self, home: Path, size: int, timeout: float) -> None:
        self.home = home
        self.size = size
        self.timeout = timeout
        self.events: queue.Queue[tuple[Worker | None, dict[str, Any] | None]] = queue.Queue()
        self.workers: list[Worker] = []
        self._ids = itertools.count(1)
        self._respawn_after = 0.0
        self.problem: str | None = None
        self.generation = 0
        """Bumped by :meth:`recycle`: workers of an older generation are replaced."""
        self.snapshot: Path | None = None
        """The checked copy of the rules new workers load (``watch/reload.py``)."""

    def new_task(self, job: Any, root: Path, files: list[Path],
                 known: dict[str, tuple[int, int, str]] | None = None) -> Task:
        """A task with a fresh id and its time limit (:func:`harvest_limit`: per file, so a
        job folder of n files gets more, within ten times one file's; after a fatal answer
        the service retries the folder's files one by one)."""
        return Task(next(self._ids), job, root, files, harvest_limit(self.timeout, len(files)),
                    known={f: k for f, k in (known or {}).items() if Path(f) in files})

    def _fill(self) -> None:
        if time.monotonic() < self._respawn_after:
            return
        while len(self.workers) < self.size:
            try:
                worker = Worker(self.home, self.events, self.snapshot)
                worker.generation = self.generation
                self.workers.append(worker)
            except OSError as exc:
                self.problem = f"cannot start a harvest worker ({exc.strerror or exc})"
                self._respawn_after = time.monotonic() + 5
                return

    def idle(self) -> int:
        """How many workers could take a task now."""
        self._fill()
        return sum(1 for w in self.workers if w.ready and w.task is None)

    def busy(self) -> int:
        """How many tasks are running."""
        return sum(1 for w in self.workers if w.task is not None)

    def submit(self, task: Task) -> None:
        """Give ``task`` to an idle worker (call only when :meth:`idle` is non-zero)."""
        worker = next(w for w in self.workers if w.ready and w.task is None)
        try:
            worker.send(task)
        except OSError:
            # The worker died between its last word and now: retire it; the task fails
            # through the usual path so that it is retried or quarantined.
            self._retire(worker)
            self.events.put((worker, None))
            worker.task = task

    def recycle(self) -> None:
        """Replace every worker (the rules changed): idle ones now, busy ones once their
        task is answered, so that no task is lost and the next ones use the new rules."""
        self.generation += 1
        for worker in [w for w in self.workers if w.task is None]:
            self.workers.remove(worker)
            worker.stop()

    def wake(self) -> None:
        """End the current :meth:`poll` wait early (a file event arrived)."""
        self.events.put((None, None))

    def poll(self, wait: float) -> list[TaskResult]:
        """Collect finished, timed-out and crashed tasks.

        Waits up to ``wait`` seconds for the first one, or until :meth:`wake` is called.
        """
        results: list[TaskResult] = []
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            try:
                worker, message = self.events.get(timeout=max(0.0, remaining))
            except queue.Empty:
                break
            if worker is None:
                deadline = time.monotonic()  # woken: drain what is there and return
                continue
            results.extend(self._handle(worker, message))
            if results:
                # Drain whatever else is already there without waiting further.
                deadline = time.monotonic()
        results.extend(self._expire())
        return results

    def _handle(self, worker: Worker, message: dict[str, Any] | None) -> list[TaskResult]:
        if message is None:  # the process ended
            task = worker.task
            self._retire(worker)
            if task is None:
                if not worker.ready and worker.generation == self.generation:
                    self.problem = "a harvest worker failed to start (see doctor)"
                    self._respawn_after = time.monotonic() + 2
                return []
            code = worker.proc.wait()
            return [TaskResult(task, fatal=f"harvest worker died (exit code {code})")]
        if message.get("ready"):
            worker.ready = True
            self.problem = None
            return []
        task = worker.task
        if task is None or message.get("task") != task.id:
            return []
        worker.task = None
        if worker.generation != self.generation:
            self._retire(worker)  # read with the old rules; its successor loads the new
        return [TaskResult(task, reply=message, fatal=message.get("fatal"))]

    def _expire(self) -> list[TaskResult]:
        results: list[TaskResult] = []
        now = time.monotonic()
        for worker in list(self.workers):
            task = worker.task
            if task is not None and now - task.started > task.limit:
                worker.kill()
                self._retire(worker)
                results.append(TaskResult(
                    task, fatal=f"harvest took longer than {task.limit:g} s and was stopped"))
            elif not worker.ready and now - worker.born > STARTUP_TIMEOUT:
                worker.kill()
                self._retire(worker)
                self.problem = "a harvest worker took too long to start"
        return results

    def _retire(self, worker: Worker) -> None:
        worker.task = None
        if worker in self.workers:
            self.workers.remove(worker)
        worker.kill()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self.workers:
            worker.stop()
        self.workers.clear()


# -- the worker process ---------------------------------------------------------------------


def _answer(task_id: Any, root: Path, files: list[Path], harvester: Any,
            known: dict[Path, tuple[int, int, str]] | None = None) -> dict[str, Any]:
    try:
        outcome = harvester.harvest_files(root, files, known=known)
    except MemoryError:
        return {"task": task_id, "fatal": "harvest ran out of memory"}
    except Exception as exc:  # the worker must answer, whatever a connector did
        return {"task": task_id, "fatal": f"harvest failed ({type(exc).__name__})"}
    from printharvest.harvest.bounded import encode_errors, encode_items

    return {"task": task_id, "items": encode_items(outcome.items),
            "errors": encode_errors(outcome.errors)}


def main(argv: list[str]) -> int:
    """Run a worker for the home ``argv[0]`` until stdin closes."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    threading.Thread(target=exit_with_parent, daemon=True).start()

    from printharvest.config import Home

    home = Home.open(Path(argv[0]))
    snapshot = os.environ.get("PRINTHARVEST_RULES_SNAPSHOT")
    if snapshot:
        # The rules the service checked, not whatever the lab's files hold this second.
        from printharvest.watch.reload import snapshot_home

        home = snapshot_home(home.root, Path(snapshot))
    limit_memory(home.config.watch.worker_memory_mb)

    from printharvest.app import App

    app = App(home)
    harvester = app.harvester
    protocol.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        try:
            task = json.loads(line)
            task_id = task["task"]
            root = Path(task["root"])
            files = [Path(f) for f in task["files"]]
            known = {Path(f): (int(k[0]), int(k[1]), str(k[2]))
                     for f, k in task.get("known", {}).items()}
        except (ValueError, KeyError, TypeError, IndexError):
            continue
        protocol.write(json.dumps(_answer(task_id, root, files, harvester, known)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
