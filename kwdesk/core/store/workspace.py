"""A workspace: one folder with the SQLite database and the files that runs produce.

    workspace/
        kwdesk.db        documents, pages, chunks, pairs, runs, models (+ full-text indexes)
        runs/            one folder per training or generation run
        models/          merged models and GGUF exports
        tmp/             files being written, one folder per live process (p<pid>/,
                         locked by p<pid>.lock); a folder whose process is gone is
                         removed when the workspace opens

Each thread opens its own connection (``Workspace.connect``): SQLite connections must not
cross threads, and WAL lets readers go on while one writer writes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from kwdesk.core.base.errors import KwdeskError, human_error, storage_problem
from kwdesk.core.base.locks import ProcessLock
from kwdesk.core.base.paths import default_workspace_dir
from kwdesk.core.store.schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "kwdesk.db"
# How long a writer waits for another (the app and the CLI on one workspace) before it
# says the workspace is busy.
BUSY_TIMEOUT_MS = int(float(os.environ.get("KWDESK_BUSY_TIMEOUT_S", "10")) * 1000)

# This process's scratch folders, by workspace: their locks live as long as the process.
_scratch_locks: dict[Path, ProcessLock] = {}


class WorkspaceError(KwdeskError):
    """A workspace that cannot be opened or used; the message is for people."""


class WorkspaceBusy(WorkspaceError):
    """Another process held the write lock for longer than the busy timeout."""

    def __init__(self) -> None:
        super().__init__(
            f"The workspace is busy: another kwdesk window or command is writing to it "
            f"(waited {BUSY_TIMEOUT_MS / 1000:.0f} s). Try again when it has finished."
        )


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()

    @classmethod
    def open(cls, root: Path | str | None = None) -> "Workspace":
        """Open (and create or migrate) the workspace at ROOT, or the default one."""
        ws = cls(Path(root) if root is not None else default_workspace_dir())
        try:
            for folder in (ws.root, ws.runs_dir, ws.models_dir, ws.tmp_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"Cannot create the workspace folder {ws.root}: {exc.strerror or exc}") from exc
        try:
            ws._clear_tmp()
            db = ws.connect()
            try:
                migrate(db)
            finally:
                db.close()
        except (OSError, sqlite3.Error) as exc:
            raise WorkspaceError(f"Cannot open the workspace {ws.root}: {human_error(exc)}") from exc
        return ws

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    def connect(self) -> sqlite_utils.Database:
        """A new connection for the calling thread."""
        try:
            conn = sqlite3.connect(str(self.db_path), timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise WorkspaceError(f"Cannot open the workspace database {self.db_path}: {exc}") from exc
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise WorkspaceError(f"The workspace database {self.db_path} cannot use WAL journaling ({mode}).")
        # NORMAL is durable against application crashes in WAL mode; only a power cut can
        # lose the last transactions, never corrupt the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        return sqlite_utils.Database(conn, execute_plugins=False)

    def scratch_dir(self) -> Path:
        """This process's folder under tmp/ for files being written (moved out when whole)."""
        folder = self.tmp_dir / f"p{os.getpid()}"
        lock = _scratch_locks.get(folder)
        if lock is None:
            lock = ProcessLock(self.tmp_dir / f"p{os.getpid()}.lock")
            if not lock.try_acquire():  # another object of this process holds it already
                raise WorkspaceError(f"The scratch folder {folder} is in use.")
            _scratch_locks[folder] = lock
            shutil.rmtree(folder, ignore_errors=True)  # a dead process with the same pid left it
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _clear_tmp(self) -> None:
        """Remove what killed or crashed processes left under tmp/; live ones keep theirs."""
        live = set()
        for lock_file in self.tmp_dir.glob("p*.lock"):
            folder = lock_file.with_suffix("")
            if folder in _scratch_locks:
                live.add(folder.name)
                continue
            probe = ProcessLock(lock_file)
            if probe.try_acquire():
                # Its process is gone. Remove the folder while holding the lock, so that a
                # new process with the same pid cannot start on it half-removed.
                shutil.rmtree(folder, ignore_errors=True)
                lock_file.unlink(missing_ok=True)
                probe.release()
            else:
                live.add(folder.name)
                live.add(lock_file.name)
        for child in self.tmp_dir.iterdir():
            if child.name in live or child.name.endswith(".lock"):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations this database lacks; returns the schema version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise WorkspaceError(
            f"This workspace was written by a newer kwdesk (schema {current}; this kwdesk knows "
            f"up to {SCHEMA_VERSION}). Update kwdesk to open it."
        )
    for number in range(current + 1, SCHEMA_VERSION + 1):
        script = MIGRATIONS[number - 1]
        # One script, one transaction: a migration is applied whole or not at all.
        try:
            db.conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error:
            if db.conn.in_transaction:
                db.conn.rollback()
            raise
    return schema_version(db)


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic write: everything inside commits together or not at all.

    BEGIN IMMEDIATE takes the write lock up front, so a second writer waits (up to the busy
    timeout) instead of failing half way.
    """
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise WorkspaceBusy() from exc
        problem = storage_problem(exc)
        if problem:
            raise WorkspaceError(problem) from exc
        raise
    try:
        # sqlite-utils' own writes nest inside as savepoints (Database.atomic).
        yield db
        db.conn.execute("COMMIT")
    except BaseException as exc:
        if db.conn.in_transaction:
            db.rollback()
        problem = storage_problem(exc) if isinstance(exc, sqlite3.Error) else None
        if problem:  # a full or read-only disk: nothing of this write was kept
            raise WorkspaceError(problem) from exc
        raise


def is_busy(exc: BaseException) -> bool:
    """Whether EXC is SQLite saying that another connection holds the lock."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def workspace_health(root: Path) -> dict:
    """Schema, integrity and contents of the workspace at ROOT, opened read-only."""
    db_path = Path(root) / DB_NAME
    out: dict = {"path": str(root)}
    if not db_path.is_file():
        out["error"] = "no workspace database here yet"
        return out
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            out["schema"] = conn.execute("PRAGMA user_version").fetchone()[0]
            out["integrity"] = conn.execute("PRAGMA integrity_check").fetchone()[0]
            for table in ("documents", "chunks", "pairs", "runs", "models", "evals"):
                try:
                    out[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                except sqlite3.Error:
                    out[table] = None
        finally:
            conn.close()
        out["database_mb"] = round(db_path.stat().st_size / 1e6, 1)
        out["disk_free_gb"] = round(shutil.disk_usage(root).free / 1e9, 1)
    except (sqlite3.Error, OSError) as exc:
        out["error"] = str(exc)
    return out
