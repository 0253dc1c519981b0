"""Python settings that keep the window responsive while jobs run in its process's threads."""

from __future__ import annotations

import gc
import importlib
import sys

# The window's thread shares Python's GIL with the jobs' threads (import, generation).
# Python takes the GIL from a busy thread only every switch interval (5 ms by default), and
# each hand-over can take a few rounds when three threads want it: a 300-page import's text
# work stalled the window up to 65 ms. Every 1 ms, the longest stall was 14-25 ms and the
# import was no slower (BENCHMARKS.md, "UI responsiveness", session 17).
UI_SWITCH_INTERVAL_S = 0.001


# Modules the jobs' threads would import on first use (the bundled teacher and the chat run
# on llama.cpp). Importing runs module code and unmarshals bytecode under the GIL: the first
# generation stalled the window 56 ms importing these 54 modules in its thread. Imported
# before the window shows, they add about 0.2 s to a start of about 1.5 s.
PRELOADED = ("llama_cpp", "kwdesk.core.models.bundled", "kwdesk.core.chat.engine")


def keep_the_window_responsive() -> None:
    sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except ImportError:  # a broken install is reported where the module is used, in words
            pass


def freeze_long_lived(collect: bool = False) -> None:
    """Leave the objects alive now (modules, Qt's wrappers, a loaded model's tables) out of
    Python's full garbage collections from now on. Why: a full collection walks every
    object, holding the GIL; during an import it took 80-110 ms on the window's 160,000
    startup objects, and the window stalled as long. COLLECT first (at start, before the
    window has work) so that no garbage is kept forever."""
    if collect:
        gc.collect()
    gc.freeze()
