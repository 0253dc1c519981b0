"""Model files kwdesk loads: GGUF through llama.cpp, safetensors through transformers/peft.

Nothing else is loaded. PyTorch's .bin/.pt files are pickles, and unpickling runs whatever
code the file carries, so a folder that offers only those is refused with a way out.
A file llama.cpp will not load is examined to say why: not a GGUF file at all, cut short
(a download that stopped), or an architecture this llama.cpp does not know.
"""

from __future__ import annotations

from pathlib import Path

from kwdesk.core.base.errors import KwdeskError

GGUF_MAGIC = b"GGUF"
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".ckpt"}


class ModelFileError(KwdeskError):
    """A model file or folder kwdesk will not or cannot load; the message says why."""


def _looks_like(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (a PyTorch checkpoint?)"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (a PyTorch checkpoint?)"
    if head[8:9] == b"{" or head.startswith(b"{"):
        return "a safetensors or JSON file"
    if not head:
        return "an empty file"
    return "something else"


def check_gguf(path: Path | str) -> Path:
    """PATH, if it is a GGUF file; else ModelFileError with what it is instead."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at {path}.")
    with path.open("rb") as fh:
        head = fh.read(16)
    if not head.startswith(GGUF_MAGIC):
        raise ModelFileError(f"{path.name} is not a GGUF model file (it looks like {_looks_like(head)}).")
    return path


def gguf_architecture(path: Path) -> str | None:
    """general.architecture of a GGUF file; raises when the file is damaged or cut short."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    field = reader.fields.get("general.architecture")
    if field is None:
        return None
    return bytes(field.parts[field.data[0]]).decode("utf-8", "replace")


def why_gguf_failed(path: Path, exc: BaseException) -> str:
    """The reason llama.cpp could not load PATH, as far as the file itself tells."""
    path = Path(path)
    try:
        arch = gguf_architecture(path)
    except Exception:  # noqa: BLE001 - any failure to parse means the file is not whole
        return f"{path.name} is damaged or incomplete (a download cut short?). Download or export it again."
    if arch:
        return (f"llama.cpp could not load {path.name} (architecture '{arch}'): this build of llama.cpp may not "
                f"know that architecture, or the model is too large for the memory available. ({exc})")
    return f"llama.cpp could not load {path.name}: {exc}"


def load_llama(path: Path | str, **kwargs):
    """A llama_cpp.Llama for the GGUF file PATH; ModelFileError with a reason when it fails."""
    from llama_cpp import Llama

    path = check_gguf(path)
    # llama-cpp-python reads prompts with a thread per core whatever n_threads says: on
    # cores another program uses, those threads spin against it (bench_shared_cores.py).
    if kwargs.get("n_threads"):
        kwargs.setdefault("n_threads_batch", kwargs["n_threads"])
    try:
        return Llama(model_path=str(path), **kwargs)
    except Exception as exc:  # llama.cpp says little more than "Failed to load model from file"
        raise ModelFileError(why_gguf_failed(path, exc)) from exc


def model_parameters(llm) -> int | None:
    """How many weights a loaded llama_cpp.Llama has (None where llama.cpp cannot say)."""
    import llama_cpp

    try:
        return int(llama_cpp.llama_model_n_params(llm.model)) or None
    except Exception:  # noqa: BLE001 - an older binding or a model without the count
        return None


def gguf_chat_template(path: Path | str) -> str:
    """The Jinja chat template a GGUF file carries ("" when it has none)."""
    llm = load_llama(path, vocab_only=True, verbose=False)
    try:
        return llm.metadata.get("tokenizer.chat_template", "") or ""
    finally:
        llm.close()


def check_safetensors_folder(folder: Path | str, *, what: str = "model") -> Path:
    """FOLDER, if its weights are safetensors; else ModelFileError (pickles are refused)."""
    folder = Path(folder)
    if any(folder.glob("*.safetensors")):
        return folder
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []
    if pickles:
        raise ModelFileError(
            f"The {what} in {folder} is stored as {', '.join(pickles[:3])}: PyTorch pickle files can run code when "
            f"loaded, so kwdesk does not open them. Use a safetensors version of the {what} (most models on the hub "
            f"have one), or convert it with `python -m safetensors.torch` tools."
        )
    raise ModelFileError(f"The {what} folder {folder} has no safetensors weights.")


def safetensors_parameters(folder: Path | str) -> int:
    """How many weights the safetensors files in FOLDER hold, read from their headers alone
    (a few KB each) instead of loading the tensors."""
    import json
    import struct
    from math import prod

    total = 0
    for path in sorted(Path(folder).glob("*.safetensors")):
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        total += sum(prod(t["shape"]) for name, t in header.items() if name != "__metadata__")
    return total
