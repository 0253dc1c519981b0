"""The Ollama Modelfile written beside an exported GGUF parses and carries the right
template and stop words (the export tests check it is written beside each export)."""

from __future__ import annotations

import pytest

from kwdesk.core.export.ollama import FORMATS, chat_format, modelfile, parse_modelfile
from kwdesk.core.models.bundled import bundled_model_path
from kwdesk.core.models.model_files import gguf_chat_template


def test_the_bundled_models_modelfile_is_chatml_with_its_stop_words():
    template = gguf_chat_template(bundled_model_path())
    assert chat_format(template).name == "chatml"
    parsed = parse_modelfile(modelfile("model-Q4_K_M.gguf", template))
    assert parsed["FROM"] == "./model-Q4_K_M.gguf"
    assert "<|im_start|>assistant" in parsed["TEMPLATE"] and "{{ .Content }}" in parsed["TEMPLATE"]
    stops = [value for name, value in parsed["PARAMETER"] if name == "stop"]
    assert stops == ["<|im_start|>", "<|im_end|>"]
    assert parsed["SYSTEM"].startswith("You are a helpful assistant")


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_known_format_round_trips(fmt):
    parsed = parse_modelfile(modelfile("m.gguf", f"... {fmt.marker} ..."))
    assert parsed["TEMPLATE"] == fmt.template
    assert [v for n, v in parsed["PARAMETER"] if n == "stop"] == list(fmt.stops)


def test_an_unknown_format_leaves_the_template_to_ollama():
    text = modelfile("m.gguf", "{{ messages }}")
    parsed = parse_modelfile(text)
    assert "TEMPLATE" not in parsed and "not recognised" in text


def test_a_system_prompt_that_would_break_the_file_is_refused():
    with pytest.raises(ValueError):
        modelfile("m.gguf", "<|im_start|>", system_prompt='say """hi"""')
