"""A workspace in one archive, and back: documents, pairs, runs, models and evaluations.

The database is copied with SQLite's online backup API, so a backup taken while the app
or the CLI writes is a consistent snapshot. The archive is a zip (the database
compressed, model files stored as they are) with a manifest of every file's SHA-256;
restoring checks each file against it, refuses names that would land outside the target
folder, and rewrites the paths the database keeps under the old workspace folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.files import file_sha256
from kwdesk.core.base.jobs import Job
from kwdesk.core.store.workspace import DB_NAME, Workspace, WorkspaceError

MANIFEST = "kwdesk-backup.json"
FORMAT = 1
# Checkpoints are only for resuming a run; a finished run keeps its adapter.
SKIPPED_PARTS = {"checkpoints", "tmp"}


class BackupError(KwdeskError):
    """A backup or restore that cannot be done; the message says why."""


@dataclass
class BackupResult:
    path: Path
    files: int
    bytes: int

    def to_dict(self) -> dict:
        return {"path": str(self.path), "files": self.files, "bytes": self.bytes}


class BackupJob(Job):
    """Writes WORKSPACE into the zip ARCHIVE (written whole, then moved into place)."""

    def __init__(self, workspace: Workspace, archive: Path | str, *, include_models: bool = True) -> None:
        super().__init__()
        self.workspace = workspace
        self.archive = Path(archive)
        self.include_models = include_models

    def _files(self) -> list[Path]:
        roots = [self.workspace.runs_dir] + ([self.workspace.models_dir] if self.include_models else [])
        files = []
        for root in roots:
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(self.workspace.root)
                if path.is_file() and not path.is_symlink() and not SKIPPED_PARTS & set(relative.parts) \
                        and not path.name.endswith((".part", ".lock")):
                    files.append(path)
        return files

    def _run(self) -> BackupResult:
        files = self._files()
        partial = self.archive.with_name(self.archive.name + ".part")
        snapshot = self.workspace.scratch_dir() / f"backup-{os.getpid()}.db"
        try:
            self.report(0, len(files) + 1, "Copying the database…")
            source = sqlite3.connect(str(self.workspace.db_path))
            target = sqlite3.connect(str(snapshot))
            try:
                source.backup(target)  # a consistent copy, even while others write
            finally:
                target.close()
                source.close()
            db = sqlite3.connect(str(snapshot))
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.close()
            manifest = {"format": FORMAT, "schema": version, "workspace": str(self.workspace.root),
                        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": {}}
            total = 0
            with zipfile.ZipFile(partial, "w", allowZip64=True) as zf:
                zf.write(snapshot, DB_NAME, compress_type=zipfile.ZIP_DEFLATED)
                manifest["files"][DB_NAME] = file_sha256(snapshot)
                total += snapshot.stat().st_size
                for index, path in enumerate(files, start=1):
                    self.check_cancelled()
                    name = path.relative_to(self.workspace.root).as_posix()
                    self.report(index, len(files) + 1, f"Adding {name}")
                    # Model weights do not compress; text and JSON do.
                    compress = zipfile.ZIP_STORED if path.suffix in {".gguf", ".safetensors"} else zipfile.ZIP_DEFLATED
                    zf.write(path, name, compress_type=compress)
                    manifest["files"][name] = file_sha256(path)
                    total += path.stat().st_size
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
            os.replace(partial, self.archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            snapshot.unlink(missing_ok=True)
        return BackupResult(self.archive, len(manifest["files"]), total)


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name and ":" not in name


def restore_workspace(archive: Path | str, target: Path | str) -> Workspace:
    """Unpack ARCHIVE into the new folder TARGET and open it as a workspace."""
    archive, target = Path(archive), Path(target).expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: restore into a new folder.")
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{archive.name} is not a kwdesk backup: {exc}") from exc
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except (KeyError, ValueError) as exc:
            raise BackupError(f"{archive.name} is not a kwdesk backup (it has no manifest).") from exc
        names = [info.filename for info in zf.infolist() if not info.is_dir()]
        unsafe = [name for name in names if not _safe_member(name)]
        if unsafe:
            raise BackupError(f"{archive.name} holds files that would land outside the workspace: {unsafe[:3]}")
        missing = set(manifest["files"]) - set(names)
        if missing:
            raise BackupError(f"{archive.name} is incomplete: {sorted(missing)[:3]} missing.")
        target.mkdir(parents=True, exist_ok=True)
        for name, digest in manifest["files"].items():
            out = target / name
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, out.open("wb") as dst:
                hasher = hashlib.sha256()
                for block in iter(lambda: src.read(1 << 20), b""):
                    hasher.update(block)
                    dst.write(block)
            if hasher.hexdigest() != digest:
                raise BackupError(f"{name} in {archive.name} is damaged (its checksum does not match).")
    db = sqlite3.connect(str(target / DB_NAME))
    try:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"The database in {archive.name} is damaged.")
        old = manifest["workspace"].rstrip("/") + "/"
        new = str(target) + "/"
        with db:
            for table in ("runs", "models"):
                db.execute(
                    f"UPDATE {table} SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                    [new, len(old) + 1, len(old), old],
                )
    finally:
        db.close()
    try:
        return Workspace.open(target)
    except WorkspaceError as exc:
        raise BackupError(str(exc)) from exc



class RestoreJob(Job):
    """restore_workspace as a job, for the app's worker thread."""

    def __init__(self, archive: Path | str, target: Path | str) -> None:
        super().__init__()
        self.archive, self.target = Path(archive), Path(target)

    def _run(self) -> Workspace:
        self.report(0, None, f"Restoring {self.archive.name}…")
        return restore_workspace(self.archive, self.target)
