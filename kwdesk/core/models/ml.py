"""Import torch, transformers and peft once, under a lock.

transformers resolves its names lazily on first use; two worker threads doing that at the
same moment (the app plans a run while a training starts) can fail with "cannot import
name 'AutoModel' from 'transformers'". Every job that uses them calls import_ml() first.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_ready = False


def import_ml() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
        from transformers import (  # noqa: F401
            AutoConfig,
            AutoModel,
            AutoModelForCausalLM,
            AutoTokenizer,
        )

        _ready = True
