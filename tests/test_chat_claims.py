"""Chat that can be trusted: each statement of an answer with sources checked against the
passages (which one backs it, or none), and each question asked on its own unless it refers
back to the conversation. The checks are pure text; the last test asks the real bundled model."""

import re

from kwdesk.core.chat.claims import (
    answer_segments,
    check_claims,
    claims_summary,
    marked_answer,
)
from kwdesk.core.chat.follow_up import refers_back
from kwdesk.core.store.documents import chunk_text

PASSAGES = [
    "The harbour master of Brisk Harbour is Ines Varga. She signs every berth permit.",
    "The Larkspur Dam on the Veltra River is 212 metres high. Engineer Maren Oskarsdottir designed it in 1931.",
]


def test_each_statement_is_matched_to_the_passage_that_backs_it():
    answer = ("The Larkspur Dam is 212 metres high [1]. It was designed by Maren Oskarsdottir in 1931. "
              "The dam was rebuilt in 1987 by Tomas Ferreira. I hope this helps!")
    claims = check_claims(answer, PASSAGES)
    assert [c.text for c in claims] == ["The Larkspur Dam is 212 metres high.",
                                        "It was designed by Maren Oskarsdottir in 1931.",
                                        "The dam was rebuilt in 1987 by Tomas Ferreira."]
    first, second, third = claims
    # The model cited [1] for what passage 2 says: the check finds the right one.
    assert first.cited == [1] and first.backed_by == [2]
    assert second.backed_by == [2] and second.cited == []
    assert not third.supported  # neither the year nor the name is in any passage
    marked = marked_answer(answer_segments(answer, PASSAGES))
    assert marked == ("The Larkspur Dam is 212 metres high. [2] It was designed by Maren Oskarsdottir in 1931. [2] "
                      "The dam was rebuilt in 1987 by Tomas Ferreira. [not in the sources] I hope this helps!")
    summary = claims_summary(claims)
    assert summary.startswith("2 of 3 statements backed by the passages; 1 cited the wrong passage")
    assert "rebuilt in 1987" in summary


def test_a_citation_after_the_full_stop_belongs_to_its_sentence():
    """A model trained with sources cites as the chat marks: "... high. [2]" (the marker after
    the full stop), and the marker is that sentence's, not the next one's."""
    answer = "The Larkspur Dam is 212 metres high. [1] The harbour master is Ines Varga. [1][2] Thanks!"
    segments = answer_segments(answer, PASSAGES)
    assert [text for text, _ in segments] == ["The Larkspur Dam is 212 metres high.", "The harbour master is Ines Varga.",
                                              "Thanks!"]
    dam, master = [claim for _, claim in segments if claim is not None]
    assert (dam.cited, dam.backed_by) == ([1], [2]) and (master.cited, master.backed_by) == ([1, 2], [1])
    assert claims_summary([dam, master]).startswith("2 of 2 statements backed by the passages; 1 cited the wrong passage")
    # What the chat marks reads back the same.
    marked = marked_answer(segments)
    assert [c.cited for c in check_claims(marked, PASSAGES)] == [[2], [1]]


def test_a_name_from_the_wrong_passage_is_not_backed():
    # The small model's mistake from the walk: the hydrologist's name for the harbour master.
    claims = check_claims("The harbour master is Maren Oskarsdottir.", PASSAGES)
    assert len(claims) == 1 and not claims[0].supported
    assert check_claims("The harbour master is Ines Varga.", PASSAGES)[0].backed_by == [1]


def test_a_question_refers_back_only_when_it_needs_the_conversation():
    for alone in ("Who is the harbour master of Brisk Harbour?", "How high is the Larkspur Dam?",
                  "What is the capital of France?", "Which permits does the harbour master sign?"):
        assert not refers_back(alone), alone
    for follow_up in ("How high is it?", "Who designed it?", "And the Orvane weir?", "Why?",
                      "What about the pump station?", "Can you explain that?", "When were they built?",
                      "Tell me more about the inspection interval"):
        assert refers_back(follow_up), follow_up


def test_the_chat_asks_a_new_topic_without_the_turns_before_it(facts_workspace):
    from kwdesk.core.chat.engine import ChatEngine
    from kwdesk.core.models.targets import chat_target

    db = facts_workspace.connect()
    engine = ChatEngine.for_target(facts_workspace, chat_target(db, "bundled"))
    db.close()
    sent = []
    real_stream = engine._stream

    def watch(messages, max_tokens, temperature):  # the real model answers; the prompt is kept to read
        sent.append(messages)
        return real_stream(messages, max_tokens, temperature)

    engine._stream = watch
    try:
        conversation = engine.new_conversation()
        first = engine.ask(conversation, "How high is the Larkspur Dam?", with_sources=True, max_tokens=48)
        second = engine.ask(conversation, "Who is the harbour master of Brisk Harbour?", max_tokens=32)
        third = engine.ask(conversation, "Who designed it?", max_tokens=32)
    finally:
        engine.close()
    assert not first.on_its_own and second.on_its_own and not third.on_its_own
    assert [m["role"] for m in sent[1]] == ["system", "user"]  # the dam's turn left out
    assert "Larkspur" not in " ".join(m["content"] for m in sent[1])
    assert [m["role"] for m in sent[2]][-3:] == ["user", "assistant", "user"]  # "it" needs the turns before
    # The answer with sources was checked statement by statement against its passages.
    assert first.sources and first.segments
    db = facts_workspace.connect()
    texts = {s["n"]: chunk_text(db, s["chunk_id"]) for s in first.sources}
    db.close()
    for claim in first.claims:
        for n in claim.backed_by:
            assert all(number in texts[n] for number in re.findall(r"\d+", claim.text)), (claim, texts[n])
