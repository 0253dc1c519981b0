"""The server's queue (serve/engines.Turns) on a real event loop: one generation at a time,
turns round the clients so that one client's burst does not starve another, a bounded wait,
and a request given up while waiting neither runs nor blocks the others."""

import asyncio

import pytest

from kwdesk.core.serve.engines import QueueFull, Turns


async def _ask(turns: Turns, client: str, label: str, served: list, running: list, hold: float = 0.01):
    async with turns.turn(client):
        running.append(label)
        assert len(running) == 1, f"two generations at once: {running}"
        await asyncio.sleep(hold)
        served.append(label)
        running.remove(label)


def test_turns_go_round_the_clients_one_at_a_time():
    async def scenario():
        turns, served, running = Turns(max_waiting=50), [], []
        tasks = [asyncio.create_task(_ask(turns, "script", f"s{i}", served, running)) for i in range(6)]
        await asyncio.sleep(0)  # the script's burst is queued first
        tasks.append(asyncio.create_task(_ask(turns, "person", "p0", served, running)))
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(_ask(turns, "person", "p1", served, running)))
        await asyncio.gather(*tasks)
        return turns, served

    turns, served = asyncio.run(scenario())
    assert sorted(served) == sorted([f"s{i}" for i in range(6)] + ["p0", "p1"])
    # The person's first question waits for the script's running request only, not for its five queued ones.
    assert served.index("p0") <= 2 and served.index("p1") <= 4, served
    # Within one client, first come, first served.
    assert [s for s in served if s.startswith("s")] == [f"s{i}" for i in range(6)]
    assert turns.served == 8 and turns.waiting == 0 and not turns.busy


def test_a_full_queue_refuses_with_a_retry_time_and_a_cancelled_wait_is_skipped():
    async def scenario():
        turns, served, running = Turns(max_waiting=2), [], []
        first = asyncio.create_task(_ask(turns, "a", "a0", served, running, hold=0.05))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(_ask(turns, "b", f"b{i}", served, running)) for i in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(QueueFull) as refused:
            turns.admit()
        waiting[0].cancel()  # the client went away while waiting
        await asyncio.gather(first, waiting[1], return_exceptions=True)
        turns.admit()  # room again
        return turns, served, refused.value

    turns, served, refused = asyncio.run(scenario())
    assert refused.retry_after_s >= 1 and "2 requests are waiting" in str(refused)
    assert served == ["a0", "b1"]
    assert not turns.busy and turns.waiting == 0
