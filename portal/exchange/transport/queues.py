"""Where an axis keeps its queues: in memory (the loopback transport) or in a directory (the simulator).

The state is one small JSON-able index — every delivery (which system it waits for, its outcome) and every
sent package (its recipients) — plus one file per delivered package. Writing goes: package files first, then
the index in one atomic replace, so a crash leaves either the whole send or nothing the index names; files
the index does not name (a crash between the two) and temporary files are removed at the next start.
Acknowledging writes the index, then deletes the package file.

On disk:

    <directory>/index.json                     {"version": 1, "seq": n, "deliveries": {...}, "sent": {...}}
    <directory>/.lock                          flock'd around every read-modify-write (several processes)
    <directory>/queues/<SystemId>/<id>.edxml   one file per package still waiting for that system
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

State = dict[str, Any]
VERSION = 1


def empty_state() -> State:
    return {"version": VERSION, "seq": 0, "deliveries": {}, "sent": {}}


class MemoryQueues:
    """The loopback transport's queues; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = empty_state()
        self._packages: dict[str, bytes] = {}

    @contextmanager
    def locked(self, *, write: bool) -> Iterator[State]:
        """The state, alone; with ``write`` what the block changed is kept unless it raised."""
        with self._lock:
            state = copy.deepcopy(self._state) if write else self._state
            yield state
            if write:
                self._state = state

    def put(self, system_id: str, doc_id: str, data: bytes) -> None:
        self._packages[doc_id] = bytes(data)

    def get(self, system_id: str, doc_id: str) -> bytes:
        return self._packages[doc_id]

    def drop(self, system_id: str, doc_id: str) -> None:
        self._packages.pop(doc_id, None)


class DiskQueues:
    """The simulator's queues: survive a restart; safe for threads and for processes sharing the directory."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._index = self.directory / "index.json"
        self._lock_path = self.directory / ".lock"
        self._thread_lock = threading.Lock()
        self._clean()

    @contextmanager
    def locked(self, *, write: bool) -> Iterator[State]:
        with self._thread_lock, open(self._lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                state = self._read()
                yield state
                if write:
                    _write_atomically(self._index, json.dumps(state, ensure_ascii=False, indent=1).encode())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _path(self, system_id: str, doc_id: str) -> Path:
        return self.directory / "queues" / system_id / f"{doc_id}.edxml"

    def put(self, system_id: str, doc_id: str, data: bytes) -> None:
        path = self._path(system_id, doc_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, data)

    def get(self, system_id: str, doc_id: str) -> bytes:
        return self._path(system_id, doc_id).read_bytes()

    def drop(self, system_id: str, doc_id: str) -> None:
        self._path(system_id, doc_id).unlink(missing_ok=True)

    def _read(self) -> State:
        try:
            state = json.loads(self._index.read_bytes())
        except FileNotFoundError:
            return empty_state()
        except ValueError as exc:
            raise RuntimeError(f"Tệp chỉ mục {self._index} của trục mô phỏng bị hỏng: {exc}") from exc
        if not isinstance(state, dict) or state.get("version") != VERSION:
            raise RuntimeError(f"Tệp chỉ mục {self._index} không phải của phiên bản {VERSION} của trục mô phỏng.")
        return state

    def _clean(self) -> None:
        """Temporary files, and package files no waiting delivery names (a crash between the two writes)."""
        with self.locked(write=False) as state:
            waiting = {doc_id for doc_id, d in state["deliveries"].items() if d["status"] == "pending"}
            for path in self.directory.rglob("*.tmp"):
                path.unlink(missing_ok=True)
            for path in (self.directory / "queues").glob("*/*.edxml"):
                if path.stem not in waiting:
                    path.unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    """tmp + fsync + rename + fsync of the directory: the file is the old one or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
