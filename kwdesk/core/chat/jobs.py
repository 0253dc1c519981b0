"""Chat as jobs, for the app's workers: load a model (converting it first if needed) and ask
one question of one or more loaded models."""

from __future__ import annotations

from kwdesk.core.base.jobs import Job
from kwdesk.core.chat.engine import Answer, ChatEngine
from kwdesk.core.models.targets import ModelSpec, base_target, chat_target
from kwdesk.core.store.workspace import Workspace


class LoadChatModelJob(Job):
    """Find (convert if needed) and load a model for chat; the result is a ChatEngine.
    BASE_OF_SPEC loads the base the model was trained from instead (answers side by side)."""

    def __init__(self, workspace: Workspace, spec: "str | ModelSpec | None", *, base_of_spec: bool = False) -> None:
        super().__init__()
        self.workspace = workspace
        self.spec = ModelSpec.parse(spec)
        self.base_of_spec = base_of_spec

    def _run(self) -> ChatEngine:
        self.report(0, None, "Loading the model…")
        db = self.workspace.connect()
        try:
            target = base_target(db, self.spec) if self.base_of_spec else chat_target(db, self.spec)
        finally:
            db.close()
        self.check_cancelled()
        return ChatEngine.for_target(self.workspace, target)


class AskJob(Job):
    """One question to one or more loaded models in turn (the personal model, then the base
    for the side-by-side view). Each token arrives as progress with its token and target."""

    def __init__(self, targets: list[tuple[ChatEngine, int]], question: str, *, with_sources: bool = False,
                 max_tokens: int = 512) -> None:
        super().__init__()
        self.targets = targets
        self.question = question
        self.with_sources = with_sources
        self.max_tokens = max_tokens

    def _run(self) -> list[Answer]:
        answers = []
        try:
            for index, (engine, conversation_id) in enumerate(self.targets):
                if self.cancelled:
                    break
                answers.append(
                    engine.ask(
                        conversation_id, self.question, with_sources=self.with_sources, cancel=self.cancel_event,
                        max_tokens=self.max_tokens,
                        on_token=lambda token, i=index: self.report(0, None, "", target=i, token=token),
                    )
                )
        finally:
            # The engines belong to the chat page; a finished job must not keep them alive.
            self.targets = []
        return answers
