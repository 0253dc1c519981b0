"""Checks that an exported GGUF answers like the model it was made from.

The merged model under transformers is the reference. For each sample prompt (questions
the model was trained on), transformers writes a greedy answer; llama.cpp then reads the
same tokens and must predict the same next token at (nearly) every position. Reading the
reference path token by token (teacher forcing) keeps one early difference from counting
as a whole different answer. A quantized file may differ a little; the tolerance per
quantization is stated in TOLERANCE. The file must also carry a chat template and must end
its answers (a model that never stops is broken, whatever its tokens).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.models.ml import import_ml

log = logging.getLogger(__name__)

# Smallest share of positions where the GGUF's top token equals the reference's.
TOLERANCE = {"F16": 0.97, "Q8_0": 0.95, "Q5_K_M": 0.85, "Q4_K_M": 0.80}
ANSWER_TOKENS = 32
# A position where the file's top token differs from the reference's but gives the reference's
# token a logit within this much of its top is a near tie, not a difference: two tokens the
# model holds about equally likely swap places under the smallest rounding (Q8_0 of a 135M
# model trained three steps failed at 94% this way). A broken conversion puts the reference's
# token far below the top, so it still fails.
NEAR_TIE_LOGITS = 0.25
STOP_WITHIN = 160  # tokens; an answer still running then has lost its stop token


class VerificationFailed(KwdeskError):
    """The export does not answer like its model; the message says how."""


@dataclass
class VerifyReport:
    quantization: str
    agreement: float  # share of positions with the same top token, or a near tie (NEAR_TIE_LOGITS)
    tolerance: float
    positions: int
    prompts: int
    stopped: int  # answers the GGUF ended by itself
    reference_stopped: int
    has_chat_template: bool
    problems: list[str] = field(default_factory=list)
    near_ties: int = 0  # positions counted as agreeing because the two tokens were all but tied

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def reference_paths(merged_folder: Path, prompts: list[str]):
    """Prompt tokens, transformers' greedy answer tokens, and whether it stopped."""
    from kwdesk.core.models.hf_generate import greedy_chat

    out = []
    for prompt_ids, generated, tokenizer in greedy_chat(merged_folder, prompts, STOP_WITHIN):
        ends = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")} - {None}
        out.append((prompt_ids, generated[:ANSWER_TOKENS], any(t in ends for t in generated)))
    return out


def verify_gguf(merged_folder: Path, gguf: Path, prompts: list[str], quantization: str, *,
                lora_path: Path | None = None, references: list | None = None) -> VerifyReport:
    """Check GGUF (with the LoRA adapter LORA_PATH applied, when given) against the merged
    model; REFERENCES (from reference_paths) spares a second run of transformers."""
    import_ml()
    import numpy as np

    from kwdesk.core.data.teacher import default_threads
    from kwdesk.core.models.model_files import ModelFileError, load_llama

    tolerance = TOLERANCE.get(quantization, 0.80)
    try:
        llm = load_llama(gguf, n_ctx=1024, n_threads=default_threads(), logits_all=True, verbose=False,
                         lora_path=str(lora_path) if lora_path else None)
    except ModelFileError as exc:
        raise VerificationFailed(f"The exported file does not load: {exc}") from exc
    try:
        has_template = bool(llm.metadata.get("tokenizer.chat_template"))
        references = references if references is not None else reference_paths(merged_folder, prompts)
        same = ties = total = stopped = 0
        for prompt_ids, answer_ids, _ in references:
            if not answer_ids:
                continue
            llm.reset()
            llm.eval(prompt_ids + answer_ids[:-1])
            logits = np.asarray(llm.scores[len(prompt_ids) - 1 : len(prompt_ids) - 1 + len(answer_ids)])
            predicted = logits.argmax(axis=1).tolist()
            for row, (got, wanted) in enumerate(zip(predicted, answer_ids)):
                if got == wanted:
                    same += 1
                elif logits[row, got] - logits[row, wanted] <= NEAR_TIE_LOGITS:
                    ties += 1
            total += len(answer_ids)
        for prompt in prompts:
            if has_template:
                reply = llm.create_chat_completion(
                    messages=[{"role": "user", "content": prompt}], max_tokens=STOP_WITHIN, temperature=0
                )
                stopped += reply["choices"][0]["finish_reason"] == "stop"
    finally:
        llm.close()
    agreement = (same + ties) / total if total else 0.0
    reference_stopped = sum(1 for *_, s in references if s)
    report = VerifyReport(
        quantization, round(agreement, 4), tolerance, total, len(prompts), stopped, reference_stopped, has_template,
        near_ties=ties,
    )
    if not has_template:
        report.problems.append("the file has no chat template: chat apps would format prompts wrongly")
    if agreement < tolerance:
        report.problems.append(
            f"its next-token predictions agree with the trained model at {agreement:.0%} of positions "
            f"(at least {tolerance:.0%} needed for {quantization})"
        )
    if has_template and stopped < reference_stopped - max(1, len(prompts) // 4):
        report.problems.append(
            f"it ended {stopped} of {len(prompts)} answers by itself, the trained model {reference_stopped}: "
            "its stop token is lost"
        )
    return report
