"""How many passages "with sources" gives a model: one to a small model, three to a large one."""

from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.models.chat_format import SOURCES_TOP_K, sources_top_k
from kwdesk.core.models.targets import converted_base

QUESTION = "How high is the Larkspur Dam?"


def test_a_small_model_is_given_the_best_passage_and_a_large_one_three(bundled_base, facts_workspace):
    # Measured on the bundled 135M (bench/bench_sources_passages.py): one passage read far
    # better than three. Larger models, and those whose size is unknown, keep three.
    assert sources_top_k(135_000_000) == 1
    assert sources_top_k(7_000_000_000) == sources_top_k(None) == SOURCES_TOP_K == 3
    gguf = converted_base({"base_folder": str(bundled_base.folder), "base_name": bundled_base.name}, "Q8_0")[0]
    engine = ChatEngine(facts_workspace, gguf)
    try:
        assert engine.sources_top_k == 1  # llama.cpp counts the file's weights: about 135M
        system, sources = engine.with_sources("Answer briefly.", QUESTION)
        assert len(sources) == 1 and "Larkspur Dam" in sources[0]["text"]
        assert "[1] " in system and "[2] " not in system
        # The chat's answer lists the one passage it was given.
        answer = engine.ask(engine.new_conversation(), QUESTION, with_sources=True, max_tokens=24)
        assert [s["chunk_id"] for s in answer.sources] == [sources[0]["chunk_id"]]
        # The same handbook holds more passages on the dam: a larger model gets three.
        engine.sources_top_k = 3
        _, three = engine.with_sources("Answer briefly.", QUESTION)
        assert len(three) == 3 and three[0]["text"] == sources[0]["text"]
    finally:
        engine.close()
