"""Errors of the machine (a full disk, a read-only folder, a busy database) in words.

The CLI and the app show every failure through ``human_error`` so that the same cause
reads the same way in both, and says what to do.
"""

from __future__ import annotations

import errno
import sqlite3


class KwdeskError(Exception):
    """A failure whose message is written for the person using kwdesk (a wrong model id, a
    missing file, a busy workspace). Every error that kwdesk raises on purpose derives from
    it: the CLI's main prints it as one line and exits 1, the app's worker shows it; neither
    shows a traceback. Anything else reaching them is a bug, and is logged with its traceback.
    """

_OS_MESSAGES = {
    errno.ENOSPC: "The disk is full{where}. Free some space and try again; nothing that was saved is lost.",
    errno.EDQUOT: "Your disk quota is used up{where}. Free some space and try again; nothing that was saved is lost.",
    errno.EROFS: "The folder{where} is on a read-only disk. Choose a workspace on a disk kwdesk can write to.",
    errno.EACCES: "kwdesk may not write{where}. Check the folder's permissions, or choose another workspace.",
    errno.EPERM: "kwdesk may not write{where}. Check the folder's permissions, or choose another workspace.",
}


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if getattr(exc, "filename", None) else ""


def storage_problem(exc: BaseException) -> str | None:
    """The message for a full, read-only or forbidden disk behind EXC (or its causes), else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _OS_MESSAGES:
            return _OS_MESSAGES[exc.errno].format(where=_where(exc))
        if isinstance(exc, sqlite3.Error):
            text = str(exc).lower()
            if "disk is full" in text:
                return _OS_MESSAGES[errno.ENOSPC].format(where=" (the workspace database)")
            if "readonly database" in text or "read-only" in text:
                return "The workspace database is read-only. Choose a workspace on a disk kwdesk can write to."
            if "unable to open database file" in text:
                return "The workspace database cannot be opened: its folder may be read-only or missing."
        exc = exc.__cause__ or exc.__context__
    return None


def human_error(exc: BaseException) -> str:
    """What to show a person for EXC, on one line: a storage problem in words, else the
    error's own text."""
    text = storage_problem(exc) or str(exc) or type(exc).__name__
    return " ".join(text.split()) if "\n" not in text.strip() else text.strip()


def is_user_facing(exc: BaseException) -> bool:
    """True for failures a person can act on from the message alone: kwdesk's own errors and
    a full, read-only or forbidden disk. The rest are bugs worth a traceback in the log."""
    return isinstance(exc, KwdeskError) or storage_problem(exc) is not None
