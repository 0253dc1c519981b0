"""An Ollama Modelfile for an exported GGUF, so that `ollama create` gives a model that
formats its prompts and stops its answers as the model was trained to.

Ollama's TEMPLATE is a Go template, not the Jinja template inside the GGUF. kwdesk
recognises the common chat formats by their markers and writes the matching Go template
and stop words; for an unknown format it leaves TEMPLATE out, and Ollama falls back on
its own detection from the GGUF's metadata (a comment in the file says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT


@dataclass(frozen=True)
class ChatFormat:
    name: str
    marker: str  # a string only this format's Jinja template contains
    template: str  # Ollama's Go template
    stops: tuple[str, ...]


FORMATS = (
    ChatFormat(
        "chatml",
        "<|im_start|>",
        "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
        ("<|im_start|>", "<|im_end|>"),
    ),
    ChatFormat(
        "llama3",
        "<|start_header_id|>",
        "{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}"
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    ),
    ChatFormat(
        "gemma",
        "<start_of_turn>",
        "{{- range .Messages }}<start_of_turn>{{ if eq .Role \"assistant\" }}model{{ else }}{{ .Role }}{{ end }}\n"
        "{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n",
        ("<start_of_turn>", "<end_of_turn>"),
    ),
    ChatFormat(
        "phi3",
        "<|assistant|>",
        "{{- if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}"
        "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n",
        ("<|end|>", "<|user|>", "<|assistant|>"),
    ),
    ChatFormat(
        "mistral",
        "[INST]",
        "{{- range .Messages }}{{ if eq .Role \"user\" }}[INST] {{ if and $.System (eq (len $.Messages) 1) }}"
        "{{ $.System }}\n\n{{ end }}{{ .Content }} [/INST]{{ else }}{{ .Content }}</s>{{ end }}{{ end }}",
        ("[INST]", "[/INST]"),
    ),
)


def chat_format(jinja_template: str) -> ChatFormat | None:
    """The chat format a GGUF's Jinja template writes, or None when kwdesk does not know it."""
    for fmt in FORMATS:
        if fmt.marker in (jinja_template or ""):
            return fmt
    return None


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def modelfile(gguf_name: str, jinja_template: str, *, system_prompt: str = DEFAULT_SYSTEM_PROMPT,
              temperature: float = 0.2, context: int = 4096) -> str:
    """The text of a Modelfile for the GGUF file GGUF_NAME lying beside it."""
    if '"""' in system_prompt:
        raise ValueError('a system prompt for Ollama cannot contain """')
    fmt = chat_format(jinja_template)
    lines = [f"# Made by kwdesk. Create the model with: ollama create NAME -f {gguf_name.rsplit('.', 1)[0]}.Modelfile",
             f"FROM ./{gguf_name}"]
    if fmt is None:
        lines.append("# Chat format not recognised: Ollama reads the template from the GGUF file itself.")
    else:
        lines.append(f'TEMPLATE """{fmt.template}"""')
        lines.extend(f"PARAMETER stop {_quoted(stop)}" for stop in fmt.stops)
    lines += [f"PARAMETER temperature {temperature}", f"PARAMETER num_ctx {context}", f'SYSTEM """{system_prompt}"""']
    return "\n".join(lines) + "\n"


def parse_modelfile(text: str) -> dict:
    """Reads a Modelfile as Ollama does (instructions, triple-quoted values, comments):
    {"FROM": str, "TEMPLATE": str, "SYSTEM": str, "PARAMETER": [(name, value)]}."""
    out: dict = {"PARAMETER": []}
    rest = text
    while rest.strip():
        rest = rest.lstrip()
        if rest.startswith("#"):
            rest = rest.split("\n", 1)[1] if "\n" in rest else ""
            continue
        match = re.match(r"([A-Z]+)\s+", rest)
        if not match or match.group(1) not in {"FROM", "TEMPLATE", "SYSTEM", "PARAMETER", "ADAPTER", "LICENSE", "MESSAGE"}:
            raise ValueError(f"not a Modelfile instruction: {rest[:40]!r}")
        keyword, rest = match.group(1), rest[match.end():]
        if rest.startswith('"""'):
            end = rest.index('"""', 3)
            value, rest = rest[3:end], rest[end + 3:]
        else:
            value, _, rest = rest.partition("\n")
        if keyword == "PARAMETER":
            name, _, raw = value.strip().partition(" ")
            raw = raw.strip()
            if raw.startswith('"'):
                raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            out["PARAMETER"].append((name, raw))
        else:
            out[keyword] = value.strip() if keyword == "FROM" else value
    if "FROM" not in out:
        raise ValueError("a Modelfile needs FROM")
    return out


def write_modelfile(gguf: Path, jinja_template: str) -> Path:
    """Writes NAME.Modelfile beside the GGUF (whole, or not at all)."""
    target = gguf.with_suffix(".Modelfile")
    partial = target.with_name(target.name + ".part")
    partial.write_text(modelfile(gguf.name, jinja_template), encoding="utf-8")
    partial.replace(target)
    return target
