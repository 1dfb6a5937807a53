"""The integrator: the one process that sequences queued entries and signs checkpoints.

Run it as a long-lived service (``python manage.py audit_integrate``; see the README for
a systemd unit). Any number may be started across hosts: exactly one leads, the others
wait on the leader lock and take over within a poll interval when the leader dies.

* PostgreSQL: a session-level advisory lock, released by the server when the leader's
  connection ends, however the process died.
* SQLite: an exclusive ``flock`` on a file beside the database, released by the kernel
  when the process ends.

Each batch is one transaction (see ``audit.services.integrate_pending``), so a crash
anywhere loses nothing and sequences nothing twice: what was not committed is still
queued. A checkpoint is signed after a batch at most once a second, and at least once a
minute while entries arrive (``CHECKPOINT_EVERY``), so a receipt is provable within the
maximum merge delay.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.db import connection as default_connection

from audit import selectors, services

logger = logging.getLogger("audit.integrator")

#: Key of the PostgreSQL advisory lock that elects the leader ("audit-ix" in ASCII).
ADVISORY_LOCK_KEY = 0x61756469742D6978
#: At most one checkpoint a second.
CHECKPOINT_EVERY = 1.0
#: Seconds to wait before retrying after the database went away.
RETRY_AFTER = (0.5, 1, 2, 5)


class LeaderLock:
    """Held by the one integrator that may run; ``acquire`` never blocks."""

    def __init__(self, connection=default_connection) -> None:
        self.connection = connection
        self._file = None
        self.held = False

    def _lock_path(self) -> Path:
        name = str(self.connection.settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            return Path(settings.VAR_DIR) / "audit-integrator.lock"
        return Path(name + ".integrator.lock")

    def acquire(self) -> bool:
        if self.held:
            return True
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                self.held = bool(cursor.fetchone()[0])
        else:
            path = self._lock_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+b")  # noqa: SIM115 (held for the lock's lifetime)
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file, self.held = handle, True
        return self.held

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        elif self.connection.vendor == "postgresql":
            with contextlib.suppress(DatabaseError), self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])

    def lost(self) -> None:
        """The connection died: a PostgreSQL lock died with it."""
        if self.connection.vendor == "postgresql":
            self.held = False


class Integrator:
    def __init__(
        self,
        *,
        batch_size: int = 5000,
        poll_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        on_batch: Callable[[services.Integration], None] | None = None,
    ) -> None:
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.clock = clock
        self.on_batch = on_batch
        self.lock = LeaderLock()
        self.last_checkpoint_at = float("-inf")
        self.signed_size = -1

    def step(self) -> int:
        """One pass as leader: sequence a batch, sign if due. Returns entries sequenced."""
        batch = services.integrate_pending(limit=self.batch_size)
        if batch.sequenced and self.on_batch is not None:
            self.on_batch(batch)
        if self.signed_size < 0:
            latest = selectors.latest_checkpoint()
            self.signed_size = latest.size if latest is not None else -1
        if batch.size != self.signed_size and self.clock() - self.last_checkpoint_at >= (
            CHECKPOINT_EVERY
        ):
            checkpoint = services.checkpoint_create()
            self.last_checkpoint_at = self.clock()
            self.signed_size = checkpoint.size
        return batch.sequenced

    def run(self, stop: threading.Event) -> None:
        """Lead when possible, integrate until ``stop`` is set; survive database outages."""
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if not self.lock.acquire():
                        stop.wait(max(self.poll_interval, 0.5))
                        continue
                    sequenced = self.step()
                    failures = 0
                    if sequenced < self.batch_size:
                        # Idle or caught up: wait a little, but come back in time to sign.
                        stop.wait(self.poll_interval)
                except (OperationalError, InterfaceError) as exc:
                    delay = RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)]
                    failures += 1
                    logger.warning("database unavailable (%s); retrying in %ss", exc, delay)
                    self.lock.lost()
                    close_old_connections()
                    with contextlib.suppress(Exception):
                        default_connection.close()
                    stop.wait(delay)
        finally:
            self.lock.release()


@contextlib.contextmanager
def running_in_background(**options) -> Iterator[Integrator]:
    """Run an integrator in a thread of this process (the demo server uses it)."""
    integrator = Integrator(**options)
    stop = threading.Event()

    def target() -> None:
        try:
            integrator.run(stop)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=target, name="audit-integrator", daemon=True)
    thread.start()
    try:
        yield integrator
    finally:
        stop.set()
        thread.join(timeout=10)
