"""A teacher behind a URL (llama-server, vLLM, Ollama): kwdesk sends it several requests at
once, and what it stores is what one at a time would store: no duplicate, every pair with
its source. The server is a real llama.cpp endpoint on 127.0.0.1 (tests/loopback_teacher.py)."""

from collections import Counter

import pytest
from loopback_teacher import LoopbackTeacherServer

from kwdesk.core.data.generate import GenerateJob, GenerateOptions
from kwdesk.core.data.teacher import OpenAICompatibleTeacher, TeacherError
from kwdesk.core.store.pairs import list_pairs


def test_an_endpoint_gets_requests_in_parallel_and_nothing_is_stored_twice(facts_workspace, db):
    with LoopbackTeacherServer(slots=2) as server:
        teacher = OpenAICompatibleTeacher(server.url, "bundled", parallel=4)
        result = GenerateJob(facts_workspace, teacher, GenerateOptions(strategies=("qa", "entities", "paraphrase"))).run()
    assert server.most_at_once == 2  # both slots busy at once: the requests overlapped
    pairs = list_pairs(db)
    assert result.pairs_added == len(pairs) > 10
    assert result.reports["qa"].usable and result.reports["paraphrase"].usable
    repeated = Counter((p["document_id"], p["question"].lower(), p["answer"]) for p in pairs if p["question"])
    assert max(repeated.values()) == 1, [k for k, n in repeated.items() if n > 1]
    assert all(p["made_by"] in (teacher.name, "kwdesk-rules") for p in pairs)


def test_an_endpoint_that_cannot_be_reached_says_so():
    teacher = OpenAICompatibleTeacher("http://127.0.0.1:9", "bundled")
    with pytest.raises(TeacherError, match="cannot be reached"):
        teacher.chat([{"role": "user", "content": "hello"}], max_tokens=4)
