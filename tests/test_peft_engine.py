"""Answers from an adapter under transformers (core/chat/peft_engine.py), on the bundled base:
kwdesk's greedy loop with its key-value cache gives what the model computes token by token
from scratch, with a prefix's keys and values in front, with a LoRA adapter in the layers,
and for the base with the adapter switched off."""

import pytest
import torch
from peft import get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from kwdesk.core.chat.peft_engine import PeftModels
from kwdesk.core.models.base_models import resolve_base
from kwdesk.core.models.chat_format import DEFAULT_SYSTEM_PROMPT, chat_messages
from kwdesk.core.train.train_data import peft_config

QUESTION = "How tall is the Larkspur Dam?"
TOKENS = 12


@pytest.fixture(scope="module")
def base_folder():
    return resolve_base(None).folder


def saved_adapter(folder, method, where):
    """An adapter of METHOD saved as training saves one, with weights that change the answers
    (a new LoRA adds nothing until trained: its B matrices start at zero)."""
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model = get_peft_model(model, peft_config(method, 8, 16, 0.0, ["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    model.save_pretrained(where, safe_serialization=True)
    return where


def prompt_ids(folder):
    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = tokenizer.apply_chat_template(chat_messages(DEFAULT_SYSTEM_PROMPT, QUESTION), tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False).input_ids


def from_scratch(model, ids, tokens, eos):
    """The greedy answer by a whole forward pass per token through peft's own forward (which
    puts a prefix in front every time): slow, and plainly right."""
    seq = torch.tensor([ids])
    out = []
    with torch.inference_mode():
        for _ in range(tokens):
            token = int(model(input_ids=seq, attention_mask=torch.ones_like(seq)).logits[0, -1].argmax())
            if token in eos:
                break
            out.append(token)
            seq = torch.cat([seq, torch.tensor([[token]])], 1)
    return out


@pytest.mark.parametrize("method", ["prefix", "lora"])
def test_the_cached_loop_answers_as_the_model_computes(base_folder, tmp_path, method):
    models = PeftModels(base_folder, saved_adapter(base_folder, method, tmp_path / "adapter"))
    ids = prompt_ids(base_folder)
    trained = models.greedy(ids, TOKENS, adapter=True)
    base = models.greedy(ids, TOKENS, adapter=False)
    assert trained == from_scratch(models.model, ids, TOKENS, models.eos)
    with models.model.disable_adapter():
        assert base == from_scratch(models.model, ids, TOKENS, models.eos)
    plain = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32).eval()
    assert base == from_scratch(plain, ids, TOKENS, models.eos)  # switched off is the base itself
    assert trained != base  # the adapter is in the answer
    models.close()


def test_the_engine_answers_with_the_chat_prompt(base_folder, tmp_path, pairs_workspace):
    models = PeftModels(base_folder, saved_adapter(base_folder, "prefix", tmp_path / "adapter"))
    base = models.engine(pairs_workspace, adapter=False, name="base")
    answer = base.complete(QUESTION, max_tokens=TOKENS)
    tokenizer = models.tokenizer
    assert answer == tokenizer.decode(models.greedy(prompt_ids(base_folder), TOKENS, adapter=False),
                                      skip_special_tokens=True).strip()
    # With sources: the workspace's passages in the system prompt, as the chat asks.
    with_sources = base.complete(QUESTION, with_sources=True, max_tokens=TOKENS)
    assert with_sources and with_sources != answer
    assert base.context_length() >= 2048 and base.prompt_tokens("Larkspur Dam") > 1


@pytest.mark.parametrize("method", ["prefix", "lora"])
def test_questions_decoded_together_answer_as_one_at_a_time(base_folder, tmp_path, method, pairs_workspace):
    """The evaluation under transformers decodes several questions at once (left-padded): each
    answer must be the one the question gets alone, with the adapter and without."""
    models = PeftModels(base_folder, saved_adapter(base_folder, method, tmp_path / "adapter"))
    questions = [{"question": QUESTION}, {"question": "Who is the harbour master of the town, and since when?"},
                 {"question": QUESTION, "with_sources": True}, {"question": "Name a colour.", "system_prompt": None}]
    for adapter in (True, False):
        engine = models.engine(pairs_workspace, adapter=adapter, name="trained" if adapter else "base")
        together = engine.complete_many(questions, max_tokens=TOKENS)
        alone = [engine.complete(**q, max_tokens=TOKENS) for q in questions]
        assert together == alone and all(together)
    assert models.engine(pairs_workspace, adapter=True, name="t").complete_many(questions[:2], TOKENS) != \
        models.engine(pairs_workspace, adapter=False, name="b").complete_many(questions[:2], TOKENS)
    models.close()
