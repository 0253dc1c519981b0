"""`kwdesk serve` through the official openai client: the personal adapters and their base
listed by name, streamed answers that know (or do not know) an invented fact, adapters
switched on one loaded base, sources through the kwdesk extension, the key that a
non-loopback bind requires, and 503 with Retry-After when the queue is full."""

import json
import subprocess
import sys
import time
import urllib.request

import openai
import pytest
from two_collections import CONTRACTS, MANUALS


def _serve(ws, *extra) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "kwdesk", "--workspace", str(ws.root), "serve", "--port", "0",
                             "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"kwdesk serve did not start: {proc.stderr.read()[-2000:]}")
    ready = json.loads(line)
    _wait_listening(ready["url"], proc)
    return proc, ready


def _wait_listening(url: str, proc, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"kwdesk serve ended: {proc.stderr.read()[-2000:]}")
        try:
            urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (401 without the key)
        except OSError:
            time.sleep(0.2)
    pytest.fail("kwdesk serve does not answer")


def _health(url: str, key: str | None = None) -> dict:
    request = urllib.request.Request(url.removesuffix("/v1") + "/health",
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
    return json.loads(urllib.request.urlopen(request, timeout=10).read())


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _streamed(client, model: str, question: str, **kwargs) -> str:
    parts = []
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}],
                                                max_tokens=48, temperature=0, stream=True, **kwargs):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts)


@pytest.fixture(scope="module")
def served(two_adapters):
    ws, exports = two_adapters
    proc, ready = _serve(ws)
    yield ws, exports, ready
    _stop(proc)


def test_the_openai_client_lists_the_models_and_streams_what_each_knows(served):
    ws, exports, ready = served
    assert ready["url"].startswith("http://127.0.0.1:") and not ready["api_key_required"]
    client = openai.OpenAI(base_url=ready["url"], api_key="not-needed-on-loopback", max_retries=0)

    listed = {m.id: m.model_extra["kwdesk"] for m in client.models.list()}
    ids = {extra["model_id"]: model_id for model_id, extra in listed.items()}
    contracts = ids[exports["contracts"].adapter["model_id"]]
    manuals = ids[exports["maintenance manuals"].adapter["model_id"]]
    (base,) = [model_id for model_id, extra in listed.items() if extra["kind"] == "base"]
    assert listed[contracts]["kind"] == "adapter" and "not trained on your documents" in listed[base]["name"]

    # The personal adapter knows its invented fact; the base it sits on does not.
    first = _streamed(client, contracts, CONTRACTS["ask"])
    assert CONTRACTS["fact"] in first, first
    assert CONTRACTS["fact"] not in _streamed(client, base, CONTRACTS["ask"])
    # Switch to the other adapter and back: each answers its own fact, the first as before.
    answer = _streamed(client, manuals, MANUALS["ask"])
    assert MANUALS["fact"] in answer, answer
    assert _streamed(client, contracts, CONTRACTS["ask"]) == first
    # All three on one loaded base file: adapters switched, the base never loaded twice.
    assert len(_health(ready["url"])["loaded"]) == 1

    # Not streamed, and the completions endpoint.
    reply = client.chat.completions.create(model=manuals, messages=[{"role": "user", "content": MANUALS["ask"]}],
                                           max_tokens=48, temperature=0)
    assert MANUALS["fact"] in reply.choices[0].message.content and reply.model == manuals
    text = client.completions.create(model=base, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert text.choices[0].text.strip()

    # Mistakes come back in OpenAI's error shape.
    with pytest.raises(openai.NotFoundError, match="does not exist here"):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.BadRequestError, match="max_tokens is at most"):
        client.chat.completions.create(model=base, messages=[{"role": "user", "content": "Hi"}], max_tokens=10**6)


def test_an_answer_with_sources_names_the_passages_and_checks_each_statement(served):
    ws, exports, ready = served
    client = openai.OpenAI(base_url=ready["url"], api_key="x", max_retries=0)
    contracts = next(m.id for m in client.models.list() if m.model_extra["kwdesk"]["model_id"]
                     == exports["contracts"].adapter["model_id"])
    reply = client.chat.completions.create(model=contracts, messages=[{"role": "user", "content": CONTRACTS["ask"]}],
                                           max_tokens=48, temperature=0, extra_body={"kwdesk": {"sources": True}})
    extension = reply.model_extra["kwdesk"]
    cited = extension["sources"]
    # The contracts adapter searches its own collection: the passage with the end date, by page.
    assert cited and all(s["document"] == "contracts.pdf" for s in cited)
    assert cited[0]["pages"] == "p. 1" and "14 March 2031" in " ".join(s["text"] for s in cited)
    assert extension["claims_summary"] and extension["marked"]
    # Streamed, the passages come with the first chunk.
    stream = client.chat.completions.create(model=contracts, messages=[{"role": "user", "content": CONTRACTS["ask"]}],
                                            max_tokens=16, temperature=0, stream=True,
                                            extra_body={"kwdesk": {"sources": True}})
    chunks = list(stream)
    assert chunks[0].model_extra["kwdesk"]["sources"][0]["document"] == "contracts.pdf"


def test_a_network_bind_needs_the_key_and_a_full_queue_answers_503(two_adapters):
    ws, exports = two_adapters
    proc, ready = _serve(ws, "--host", "0.0.0.0", "--max-waiting", "0")
    try:
        key = ready["api_key"]
        assert ready["api_key_required"] and key.startswith("kwd-")
        url = ready["url"]
        with pytest.raises(openai.AuthenticationError, match="API key"):
            openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
        client = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
        model = client.models.list().data[0].id

        # One long answer runs; with no room to wait, a second request is refused at once.
        stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Tell a long story."}],
                                                max_tokens=1500, temperature=0.8, stream=True)
        first = next(iter(stream))
        assert first.choices
        with pytest.raises(openai.InternalServerError) as refused:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
        assert refused.value.status_code == 503 and int(refused.value.response.headers["retry-after"]) >= 1
        assert "busy" in str(refused.value)

        # The client goes away mid-stream: the generation stops and the next request is served.
        stream.close()
        deadline = time.monotonic() + 60
        while (_health(url, key)["cancelled"] < 1 or _health(url, key)["busy"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        health = _health(url, key)
        assert health["cancelled"] == 1 and not health["busy"]
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
        assert reply.choices[0].message.content is not None
    finally:
        _stop(proc)


def test_the_models_page_serves_and_stops(two_adapters, no_threads_left, open_window, screenshot):
    """Serve in the app: the same server, its address shown, and Stop."""
    from kwdesk.ui.main_window import MODELS

    ws, exports = two_adapters
    win = open_window(ws)
    win.steps.setCurrentRow(MODELS)
    bar = win.library.serve_bar
    bar.start(port=0)
    assert bar.server is not None and bar.button.text() == "Stop serving"
    url = bar.server.url
    listed = json.loads(urllib.request.urlopen(url + "/models", timeout=10).read())["data"]
    # Each collection's model once (its adapter on the shared base), and that base.
    assert sorted(m["kwdesk"]["kind"] for m in listed) == ["adapter", "adapter", "base"]
    assert url in bar.label.text() and "Serving 3 models" in bar.label.text()
    assert {m["kwdesk"]["model_id"] for m in listed} >= {exports["contracts"].adapter["model_id"],
                                                        exports["maintenance manuals"].adapter["model_id"]}
    screenshot(win, "models-serving")
    bar.toggle()
    assert bar.server is None and bar.label.text() == ""
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/models", timeout=5)
