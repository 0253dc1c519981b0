"""How kwdesk talks to a chat model: the system prompt every front end and export uses.

Kept in one place because the exported Modelfile, the chat engine and the evaluation must
ask with the same words: a model's answers shift with its system prompt.
"""

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly and correctly."
