"""The teacher the user chose in the settings, in one place for the window and the CLI
(an endpoint gets its model name and the API key from KWDESK_TEACHER_API_KEY)."""

from __future__ import annotations

from kwdesk.core.app.settings import Settings
from kwdesk.core.data.teacher import TeacherChoice


def teacher_choice(settings: Settings, spec: str | None = None, endpoint_model: str | None = None) -> TeacherChoice:
    """The settings' teacher; SPEC and ENDPOINT_MODEL (a command line's) override them."""
    return TeacherChoice(spec or settings.teacher or None, endpoint_model or settings.endpoint_model or None,
                         settings.teacher_parallel)


def generation_options(settings: Settings):
    """What to generate by default: the settings' kinds of data and questions a passage.
    Passages and documents that have their data already are skipped (GenerateOptions.again)."""
    from kwdesk.core.data.generate import GenerateOptions

    strategies = tuple(s.strip() for s in settings.strategies.split(",") if s.strip())
    return GenerateOptions(strategies=strategies, per_chunk=int(settings.per_chunk))
