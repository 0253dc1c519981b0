"""Run a job in a child process, with its progress, result, errors and cancel brought back.

The app trains, plans and exports this way (the CLI runs the same jobs in-process):
- torch and transformers hold the GIL for long stretches (loading native libraries, a
  tokenizer, a state dict, freeing a model): in a thread of the app they froze the window
  for up to 230 ms (bench/bench_ui_responsiveness.py); in a child they cannot;
- the gigabytes a training run allocates go back to the system when it ends;
- a crash or an out-of-memory kill ends the child, never the app, and is reported.

The child comes from the fork server (as the PDF readers do), never from a fork of the app.
The job is built in the child from a picklable factory and arguments.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import traceback
from typing import Any, Callable

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Cancelled, Job

log = logging.getLogger(__name__)


class ChildProcessError(KwdeskError):
    """The child ended without a result (a crash, or killed for memory)."""


def _child_main(conn, cancel_event, app_pid, factory, args, kwargs) -> None:
    from kwdesk.core.base.process_pool import background_priority, exit_with

    exit_with(app_pid)  # a killed app takes its training with it; the checkpoint stays
    background_priority()  # the window first; an idle window leaves the child every core
    job: Job = factory(*args, **kwargs)

    def watch_cancel() -> None:
        cancel_event.wait()
        job.cancel()

    threading.Thread(target=watch_cancel, daemon=True).start()
    try:
        result = job.run(lambda p: conn.send(("progress", p)))
    except Cancelled:
        conn.send(("cancelled", None))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        try:
            payload = pickle.dumps(exc)
        except Exception:
            payload = pickle.dumps(RuntimeError(str(exc) or type(exc).__name__))
        conn.send(("error", (payload, traceback.format_exc())))
    else:
        conn.send(("result", result))
    finally:
        conn.close()


class ChildProcessJob(Job):
    """FACTORY(*ARGS, **KWARGS) builds the job in a child process; run() acts like its run()."""

    def __init__(self, factory: Callable[..., Job], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.factory, self.args, self.kwargs = factory, args, kwargs
        self.name = getattr(factory, "__name__", "job")

    def _run(self) -> Any:
        from kwdesk.core.base.process_pool import context

        ctx = context()
        parent_conn, child_conn = ctx.Pipe(duplex=False)
        cancel_event = ctx.Event()
        process = ctx.Process(
            target=_child_main, args=(child_conn, cancel_event, os.getpid(), self.factory, self.args, self.kwargs),
            name=f"kwdesk-{self.name}", daemon=True,
        )
        process.start()
        child_conn.close()  # the parent keeps only its reading end: EOF when the child ends
        try:
            while True:
                if self.cancelled:
                    cancel_event.set()
                if not parent_conn.poll(0.1):
                    if not process.is_alive() and not parent_conn.poll(0):
                        raise ChildProcessError(self._died(process.exitcode))
                    continue
                try:
                    kind, payload = parent_conn.recv()
                except EOFError:
                    process.join(5)
                    raise ChildProcessError(self._died(process.exitcode)) from None
                if kind == "progress":
                    if self._progress is not None:
                        self._progress(payload)
                elif kind == "result":
                    return payload
                elif kind == "cancelled":
                    raise Cancelled()
                elif kind == "error":
                    exc_bytes, trace = payload
                    log.error("%s failed in its process:\n%s", self.name, trace)
                    raise pickle.loads(exc_bytes)
        finally:
            parent_conn.close()
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join(5)

    def _died(self, exitcode: int | None) -> str:
        if exitcode is not None and exitcode < 0:
            signal_number = -exitcode
            if signal_number == 9:
                return (f"The {self.name} process was killed (signal 9), most often because the machine ran out of "
                        "memory. Try a smaller model, preset or sequence length.")
            return f"The {self.name} process crashed (signal {signal_number})."
        return f"The {self.name} process ended unexpectedly (exit code {exitcode})."
