"""A trained LoRA adapter as a GGUF LoRA file, which llama.cpp applies to the base GGUF when
it loads (llama-cpp-python's ``lora_path``, or switched on a loaded base in chat.py).

One base file plus a few megabytes per body of knowledge, instead of a whole model per
adapter. The packaged llama.cpp converter has no convert_lora_to_gguf.py, so the file is
written here with the gguf package, in llama.cpp's layout for adapters:

    general.type = "adapter", adapter.type = "lora", adapter.lora.alpha
    <base tensor name>.lora_a   A, shape (rank, in)   (llama.cpp scales by alpha / rank)
    <base tensor name>.lora_b   B, shape (out, rank)

The base GGUF's tensor names come from the gguf package's name map for the architecture.
For Llama-family models llama.cpp's converter permutes the rows of the q and k projections
(rotary embedding layout); W = B @ A, so the same row permutation is applied to B.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError

# HF model_type -> (GGUF architecture, whether q/k rows are permuted like llama.cpp does)
ARCHITECTURES = {
    "llama": ("LLAMA", True),
    "mistral": ("LLAMA", True),
    "qwen2": ("QWEN2", False),
    "qwen3": ("QWEN3", False),
}
PEFT_PREFIX = "base_model.model."


class LoraGgufError(KwdeskError):
    """The adapter cannot be written as a GGUF LoRA; the message says why."""


def _permute_rows(weights, n_head: int):
    """llama.cpp's converter's q/k permutation (LlamaModel.permute), on the rows."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_lora_gguf(adapter_dir: Path, base_folder: Path, out_file: Path, name: str, strength: float = 1.0) -> Path:
    """Write the PEFT adapter in ADAPTER_DIR (trained on the HF model in BASE_FOLDER) to
    OUT_FILE as a float16 GGUF LoRA adapter, applied at STRENGTH (as export.merge_adapter)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    adapter_dir, base_folder = Path(adapter_dir), Path(base_folder)
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    base_config = json.loads((base_folder / "config.json").read_text())
    model_type = base_config.get("model_type", "")
    if model_type not in ARCHITECTURES:
        raise LoraGgufError(
            f"kwdesk cannot write a llama.cpp adapter for {model_type or 'this'} models yet "
            f"(it can for {', '.join(sorted(ARCHITECTURES))}); the merged export works for every model."
        )
    if config.get("peft_type", "LORA") != "LORA":
        raise LoraGgufError(f"llama.cpp applies LoRA adapters only, not {config['peft_type']}; the merged model file has it.")
    if config.get("modules_to_save") or config.get("use_dora") or config.get("rank_pattern") or config.get("alpha_pattern"):
        raise LoraGgufError("This adapter trains more than plain LoRA matrices; llama.cpp cannot apply it as an adapter.")
    arch_key, permuted = ARCHITECTURES[model_type]
    arch = getattr(gguf.MODEL_ARCH, arch_key)
    n_layers = base_config["num_hidden_layers"]
    n_head = base_config["num_attention_heads"]
    n_kv_head = base_config.get("num_key_value_heads") or n_head
    rank = int(config["r"])
    # llama.cpp scales by alpha / rank; rsLoRA scales by alpha / sqrt(rank).
    alpha = float(config["lora_alpha"]) * (math.sqrt(rank) if config.get("use_rslora") else 1.0) * strength

    weights_file = adapter_dir / "adapter_model.safetensors"
    if not weights_file.is_file():
        raise LoraGgufError(f"{adapter_dir} has no adapter_model.safetensors.")
    tensors = load_file(str(weights_file))
    names = gguf.get_tensor_name_map(arch, n_layers)
    out: dict[str, np.ndarray] = {}
    for key, value in sorted(tensors.items()):
        module, sep, part = key.removeprefix(PEFT_PREFIX).rpartition(".lora_")
        if not sep or part not in ("A.weight", "B.weight"):
            raise LoraGgufError(f"Unexpected tensor {key} in the adapter.")
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise LoraGgufError(f"llama.cpp has no tensor for {module}.")
        value = value.astype(np.float32)
        if part == "B.weight" and permuted:
            if module.endswith("q_proj"):
                value = _permute_rows(value, n_head)
            elif module.endswith("k_proj"):
                value = _permute_rows(value, n_kv_head)
        out[f"{target}.lora_{part[0].lower()}"] = value.astype(np.float16)

    out_file = Path(out_file)
    writer = gguf.GGUFWriter(str(out_file), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name(name)
    for tensor_name, value in out.items():
        writer.add_tensor(tensor_name, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_file
