"""Bad model files get clear errors, and nothing is ever unpickled from a model folder."""

from __future__ import annotations

import pickle
import shutil
import struct
from pathlib import Path

import pytest

from kwdesk.core.chat.engine import ChatEngine, ChatError
from kwdesk.core.data.teacher import LlamaCppTeacher, TeacherError
from kwdesk.core.models.base_models import BaseModelError, resolve_base
from kwdesk.core.models.bundled import bundled_model_path
from kwdesk.core.models.model_files import (
    ModelFileError,
    check_safetensors_folder,
    load_llama,
)


class Boom:
    """Unpickling this would run code: the test fails if it ever is."""

    def __reduce__(self):
        return (Path("/tmp/kwdesk-pickle-ran").touch, ())


def test_a_file_that_is_not_gguf_is_named_for_what_it_is(tmp_path, workspace):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(ModelFileError, match="not a GGUF model file .it looks like a Python pickle"):
        load_llama(fake)
    with pytest.raises(ChatError, match="not a GGUF model file"):
        ChatEngine(workspace, fake)
    with pytest.raises(TeacherError, match="not a GGUF model file"):
        LlamaCppTeacher(fake)


def test_a_truncated_gguf_is_called_damaged_or_incomplete(tmp_path):
    cut = tmp_path / "cut.gguf"
    with bundled_model_path().open("rb") as src:
        cut.write_bytes(src.read(20_000_000))  # a download that stopped at a fifth
    with pytest.raises(ModelFileError, match="damaged or incomplete .a download cut short"):
        load_llama(cut, verbose=False)


def _renamed_architecture(source: Path, target: Path, new: bytes) -> Path:
    """A copy of SOURCE whose general.architecture is NEW (same length as the old one)."""
    data = bytearray(source.read_bytes())
    key = b"general.architecture"
    at = data.index(key) + len(key)
    value_type, length = struct.unpack_from("<IQ", data, at)
    assert value_type == 8 and length == len(new)  # a string of the same length
    data[at + 12:at + 12 + length] = new
    target.write_bytes(bytes(data))
    return target


def test_an_architecture_llama_cpp_does_not_know_is_named(tmp_path):
    odd = _renamed_architecture(bundled_model_path(), tmp_path / "odd.gguf", b"zzzzz")
    with pytest.raises(ModelFileError, match="architecture 'zzzzz'.*may not know that architecture"):
        load_llama(odd, verbose=False)


def test_pickle_weights_are_refused_and_never_unpickled(tmp_path, bundled_base):
    marker = Path("/tmp/kwdesk-pickle-ran")
    marker.unlink(missing_ok=True)
    folder = tmp_path / "pickled-model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(bundled_base.folder / name, folder / name)
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(BaseModelError, match="pytorch_model.bin: PyTorch pickle files can run code"):
        resolve_base(str(folder))
    with pytest.raises(ModelFileError, match="pickle"):
        check_safetensors_folder(folder)
    assert not marker.exists()


def test_transformers_is_told_to_load_safetensors_only():
    # Every from_pretrained of model weights in kwdesk asks for safetensors; a loader
    # added later without it fails here.
    root = Path(__file__).resolve().parents[1] / "kwdesk"
    offenders = []
    for source in root.rglob("*.py"):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            if "AutoModelForCausalLM.from_pretrained(" in line and "gguf_file" not in line:
                window = "\n".join(source.read_text().splitlines()[number - 1:number + 2])
                if "use_safetensors=True" not in window:
                    offenders.append(f"{source.name}:{number}")
            if "torch.load(" in line and "weights_only=True" not in line:
                offenders.append(f"{source.name}:{number}")
    assert offenders == []
