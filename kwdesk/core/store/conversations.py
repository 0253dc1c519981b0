"""The conversations and messages tables: chat history, the one place that reads or writes them."""

from __future__ import annotations

import json

from kwdesk.core.store.workspace import write_transaction


def create_conversation(db, model: str, system_prompt: str, title: str = "") -> int:
    with write_transaction(db):
        return db["conversations"].insert({"model": model, "title": title, "system_prompt": system_prompt}).last_pk


def conversation_history(db, conversation_id: int) -> tuple[str | None, list[dict]] | None:
    """(system prompt, [{role, content}...]) of a conversation; None when there is none."""
    row = db.execute("SELECT system_prompt FROM conversations WHERE id = ?", [conversation_id]).fetchone()
    if row is None:
        return None
    messages = [
        {"role": role, "content": content}
        for role, content in db.execute("SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY id",
                                        [conversation_id])
    ]
    return row[0], messages


def add_exchange(db, conversation_id: int, question: str, answer: str, sources: list[dict], stopped: str) -> None:
    """A question and its answer, in one transaction; the first question titles the conversation."""
    with write_transaction(db):
        db["messages"].insert({"conversation_id": conversation_id, "role": "user", "content": question})
        db["messages"].insert(
            {"conversation_id": conversation_id, "role": "assistant", "content": answer,
             "sources": json.dumps(sources), "stopped": stopped}
        )
        db.execute("UPDATE conversations SET title = ? WHERE id = ? AND title = ''", [question[:80], conversation_id])


def list_conversations(db, limit: int = 200) -> list[dict]:
    """Conversations, newest first, with their first question as title, when they began, and
    how they were answered ("with sources", "from what it learned" or "partly with sources")."""
    rows = db.execute(
        """SELECT c.id, c.model, c.title, c.created_at, count(m.id),
                  coalesce(sum(m.role = 'assistant'), 0),
                  coalesce(sum(m.role = 'assistant' AND m.sources IS NOT NULL AND m.sources != '[]'), 0)
           FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
           GROUP BY c.id ORDER BY c.id DESC LIMIT ?""",
        [limit],
    )
    out = []
    for cid, model, title, created, messages, answers, sourced in rows:
        mode = ("with sources" if answers and sourced == answers else
                "partly with sources" if sourced else "from what it learned")
        out.append({"id": cid, "model": model, "title": title or "(empty)", "created_at": created, "messages": messages,
                    "mode": mode})
    return out


def conversation_messages(db, conversation_id: int) -> list[dict]:
    rows = db.execute(
        "SELECT role, content, sources, stopped FROM messages WHERE conversation_id = ? ORDER BY id", [conversation_id]
    )
    return [{"role": r[0], "content": r[1], "sources": json.loads(r[2] or "[]"), "stopped": r[3]} for r in rows]
