"""The conversation list: each with its first question, when it began and how it was
answered, as the chat's list shows them (a real SQLite workspace)."""

from kwdesk.core.store.conversations import (
    add_exchange,
    create_conversation,
    list_conversations,
)
from kwdesk.core.store.personal import short_date

SOURCE = [{"document": "handbook.pdf", "page_start": 2, "text": "The dam is 212 metres high."}]


def test_conversations_are_listed_with_their_date_and_how_they_were_answered(db):
    learned = create_conversation(db, "Handbook, version 1", "system")
    add_exchange(db, learned, "How high is the dam?", "212 metres.", [], "stop")
    sourced = create_conversation(db, "Handbook, version 1", "system")
    add_exchange(db, sourced, "Who designed it?", "Maren Oskarsdottir [1].", SOURCE, "stop")
    add_exchange(db, sourced, "When?", "In 1931 [1].", SOURCE, "stop")
    mixed = create_conversation(db, "Handbook, version 1", "system")
    add_exchange(db, mixed, "Where does the river rise?", "In the hills.", [], "stop")
    add_exchange(db, mixed, "And end?", "In Lake Orvane [1].", SOURCE, "stop")

    listed = {c["id"]: c for c in list_conversations(db)}
    assert [c["id"] for c in list_conversations(db)] == [mixed, sourced, learned]  # newest first
    assert listed[learned]["title"] == "How high is the dam?" and listed[learned]["mode"] == "from what it learned"
    assert listed[sourced]["mode"] == "with sources" and listed[sourced]["messages"] == 4
    assert listed[mixed]["mode"] == "partly with sources"
    day = short_date(listed[learned]["created_at"])
    assert day.split()[0].isdigit() and len(day.split()) in (2, 3)  # "3 Dec", or "3 Dec 2025" another year
