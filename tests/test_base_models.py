"""Base models for training: the bundled GGUF becomes a cached safetensors folder."""

import time

import pytest

from kwdesk.core.models.base_models import COMPLETE_MARKER, BaseModelError, resolve_base


def test_bundled_gguf_becomes_a_safetensors_folder_with_its_chat_template(bundled_base):
    folder = bundled_base.folder
    assert (folder / COMPLETE_MARKER).is_file()
    assert list(folder.glob("*.safetensors")) and not list(folder.glob("*.bin"))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert "<|im_start|>user\nHi<|im_end|>" in text and text.endswith("<|im_start|>assistant\n")


def test_the_folder_holds_the_same_model_as_the_gguf(bundled_base):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from kwdesk.core.models.bundled import bundled_model_path

    gguf = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(bundled_base.folder)
    ids = tokenizer("The Larkspur Dam is", return_tensors="pt").input_ids
    start = time.perf_counter()
    cached = AutoModelForCausalLM.from_pretrained(bundled_base.folder, dtype=torch.float32)
    cached_load_s = time.perf_counter() - start
    original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    with torch.inference_mode():
        assert torch.equal(cached(ids).logits, original(ids).logits)
    assert cached_load_s < 30  # the point of the cache: far below the GGUF load


def test_a_second_resolve_reuses_the_cache(bundled_base):
    said: list[str] = []
    weights = sorted(bundled_base.folder.glob("*.safetensors"))
    before = [w.stat().st_mtime_ns for w in weights]
    again = resolve_base("bundled", said.append)
    assert again.folder == bundled_base.folder
    # Nothing converted again: no "Converting" status, the same weight files untouched.
    assert not any("Converting" in s for s in said), said
    assert [w.stat().st_mtime_ns for w in weights] == before


def test_bad_specs_give_readable_errors(tmp_path):
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(BaseModelError, match="is not a GGUF model file .it looks like a ZIP archive"):
        resolve_base(str(not_gguf))
    (tmp_path / "folder").mkdir()
    with pytest.raises(BaseModelError, match="no config.json"):
        resolve_base(str(tmp_path / "folder"))
    with pytest.raises(BaseModelError, match="downloading models is off"):
        resolve_base("someone/not-downloaded-model")
