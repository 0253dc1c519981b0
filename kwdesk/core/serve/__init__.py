"""The local server: the personal models for other programs, over an OpenAI-compatible API
(catalog: which models; engines: loaded models and turns; openai_api: the routes; server:
where it listens and its key)."""

DEFAULT_HOST = "127.0.0.1"  # this computer only
DEFAULT_PORT = 8765
