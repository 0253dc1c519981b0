"""Chat with a model of the library: streaming answers, stop, history, the base model's
answer beside the personal model's, and sources that open the document page they cite.

Models answer in a worker (core.chat.AskJob); each token arrives as a queued signal and is
inserted as plain text. Citations are text with an anchor format, never HTML.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.chat.claims import answer_segments, claims_summary
from kwdesk.core.chat.engine import ChatEngine
from kwdesk.core.chat.jobs import AskJob, LoadChatModelJob
from kwdesk.core.chat.mode import measured_mode, what_it_knows
from kwdesk.core.models.targets import chat_models, switchable_adapter
from kwdesk.core.store.conversations import conversation_messages, list_conversations
from kwdesk.core.store.documents import chunk_text, cite_pages
from kwdesk.core.store.personal import short_date
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.runtime import freeze_long_lived
from kwdesk.ui.sizing import bounded_combo
from kwdesk.ui.theme import accent_color, error_color, muted_color

SOURCE_SCHEME = "kwdesk-source"


class Transcript(QTextBrowser):
    """One model's side of the conversation; text goes in through a cursor, as plain text."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.title = QLabel(title)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)  # a model's name and what it knows

    def _cursor(self) -> QTextCursor:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def add_turn(self, role: str, text: str = "") -> None:
        cursor = self._cursor()
        if not self.document().isEmpty():
            cursor.insertBlock()
            cursor.insertBlock()
        label = QTextCharFormat()
        label.setFontWeight(QFont.Weight.Bold)
        label.setForeground(QColor(accent_color()) if role == "assistant" else self.palette().color(QPalette.ColorRole.Text))
        cursor.insertText("Model: " if role == "assistant" else "You: ", label)
        self._answer_start = cursor.position()  # where mark_claims rewrites the answer
        cursor.insertText(text, QTextCharFormat())
        self.ensureCursorVisible()

    def mark_claims(self, segments: list, sources: list[dict]) -> None:
        """Write the answer of the last turn again, each statement followed by the passages
        that back it (links, as the sources below) or by "not in the sources"."""
        if not any(claim is not None for _, claim in segments):
            return
        cursor = self._cursor()
        cursor.setPosition(self._answer_start, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        by_number = {source["n"]: source for source in sources}
        for index, (text, claim) in enumerate(segments):
            cursor.insertText((" " if index else "") + text, QTextCharFormat())
            if claim is None:
                continue
            if not claim.supported:
                warn = QTextCharFormat()
                warn.setForeground(QColor(error_color()))
                warn.setFontItalic(True)
                cursor.insertText(" [not in the sources]", warn)
            for n in claim.backed_by:
                source = by_number.get(n)
                link = QTextCharFormat()
                if source is not None:
                    link.setAnchor(True)
                    link.setAnchorHref(f"{SOURCE_SCHEME}:{source['document_id']}/{source['page_start']}")
                link.setForeground(QColor(accent_color()))
                cursor.insertText(f" [{n}]", link)
        self.ensureCursorVisible()

    def add_text(self, text: str) -> None:
        self._cursor().insertText(text, QTextCharFormat())
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    def add_note(self, text: str) -> None:
        fmt = QTextCharFormat()
        fmt.setFontItalic(True)
        fmt.setForeground(QColor(muted_color()))
        self._cursor().insertText(f"  ({text})", fmt)

    def add_sources(self, sources: list[dict]) -> None:
        cursor = self._cursor()
        for source in sources:
            cursor.insertBlock()
            pages = cite_pages(source["page_start"], source.get("page_end") or source["page_start"],
                               source.get("page_unit", "page"))
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"{SOURCE_SCHEME}:{source['document_id']}/{source['page_start']}")
            link.setForeground(QColor(accent_color()))
            link.setFontUnderline(True)
            cursor.insertText(f"[{source['n']}] {source['document']}, {pages}", link)
        self.ensureCursorVisible()


class _EnterSends(QObject):
    """Enter sends the question; Shift+Enter makes a new line."""

    def __init__(self, send) -> None:
        super().__init__()
        self.send = send

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.send()
                return True
        return False


class ChatPage(QWidget):
    busy_changed = Signal(str)
    source_requested = Signal(int, int)  # document id, page

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()
        self.engine: ChatEngine | None = None
        self.base_engine: ChatEngine | None = None
        self.conversation: int | None = None
        self.base_conversation: int | None = None
        self._pending_question: str | None = None
        self._loaded_spec: object = ()  # nothing loaded yet
        self._load_failed_once = False  # the last load failed: do not load the base after it
        self._mode_note = ""  # the measured answer mode of the chosen model, in words
        self._asked_with_sources = False

        self.model_combo = bounded_combo(40)
        self.compare = QCheckBox("Show the base model's answer beside it")
        self.sources = QCheckBox("With sources")
        self.sources.setToolTip("Give the model the best-matching passages of your documents, and cite them by page")
        self.new_button = QPushButton("New conversation")
        self.new_button.clicked.connect(self.new_conversation)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.compare.toggled.connect(self._compare_toggled)
        self.load_bar = JobBar(show_idle_message=False)
        self.ask_bar = JobBar(show_idle_message=False)
        self.ask_bar.cancel_button.setText("Stop")

        self.history = QListWidget()
        self.history.setMinimumWidth(200)
        self.history.setWordWrap(True)
        self.history.itemActivated.connect(self._open_conversation)
        self.history.itemClicked.connect(self._open_conversation)

        self.view = Transcript("Your model")
        self.base_view = Transcript("Base model")
        for view in (self.view, self.base_view):
            view.anchorClicked.connect(self._source_clicked)
        self.views = [self.view, self.base_view]
        self.base_panel = QWidget()
        base_layout = QVBoxLayout(self.base_panel)
        base_layout.setContentsMargins(0, 0, 0, 0)
        base_layout.addWidget(self.base_view.title)
        base_layout.addWidget(self.base_view, 1)
        self.base_panel.hide()
        main_panel = QWidget()
        main_layout = QVBoxLayout(main_panel)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.view.title)
        main_layout.addWidget(self.view, 1)
        answers = QSplitter()
        answers.addWidget(main_panel)
        answers.addWidget(self.base_panel)

        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Ask a question about your documents. Enter sends, Shift+Enter starts a new line.")
        self.input.setMaximumHeight(80)
        self._enter = _EnterSends(self.send)
        self.input.installEventFilter(self._enter)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.ask_bar.cancel)
        self.stop_button.setEnabled(False)
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        # Which model answers and what its newest evaluation found (chat.mode.what_it_knows).
        self.knows = QLabel()
        self.knows.setObjectName("what_it_knows")
        self.knows.setTextFormat(Qt.TextFormat.PlainText)
        self.knows.setWordWrap(True)

        top = QVBoxLayout()
        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.new_button)
        options_row = QHBoxLayout()
        options_row.addWidget(self.sources)
        options_row.addWidget(self.compare)
        options_row.addStretch(1)
        top.addLayout(model_row)
        top.addWidget(self.knows)
        top.addLayout(options_row)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        ask_row.addLayout(buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(top)
        right_layout.addWidget(self.load_bar)
        right_layout.addWidget(answers, 1)
        right_layout.addWidget(self.ask_bar)
        right_layout.addWidget(self.message)
        right_layout.addLayout(ask_row)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Conversations"))
        left_layout.addWidget(self.history, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([220, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        for bar in (self.load_bar, self.ask_bar):
            bar.busy_changed.connect(self.busy_changed)
        self.load_bar.succeeded.connect(self._loaded)
        self.load_bar.failed.connect(self._load_failed)
        self.load_bar.finished.connect(self._load_finished)
        self.ask_bar.progressed.connect(self._on_token)
        self.ask_bar.succeeded.connect(self._answered)
        self.ask_bar.failed.connect(lambda message: self.message.setText(f"The model stopped: {message}"))
        self.ask_bar.finished.connect(self._ask_finished)
        self.refresh_models()
        self.refresh_history()

    # --- models --------------------------------------------------------------------------------

    def refresh_models(self, select_model_id: int | None = None) -> None:
        current = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for spec, label in chat_models(self.db):
            self.model_combo.addItem(label, spec)
        wanted = str(select_model_id) if select_model_id is not None else current
        index = self.model_combo.findData(wanted) if wanted is not None else 0
        self.model_combo.setCurrentIndex(max(0, index))
        self.model_combo.blockSignals(False)
        if select_model_id is not None and self._loaded_spec != ():
            self._model_changed()
        elif select_model_id is not None or self.selected_spec() != current:
            self.apply_measured_mode()  # chosen anew: it may have been evaluated since

    def selected_spec(self) -> str | None:
        return self.model_combo.currentData()

    def ensure_loaded(self) -> None:
        """Load the chosen model (and the base, when comparing) in a worker, if not loaded."""
        if self.load_bar.is_busy():
            return
        self._load_failed_once = False
        spec = self.selected_spec()
        if self.engine is not None and self._loaded_spec != spec and self._switch_adapter(spec):
            return
        if self.engine is None or self._loaded_spec != spec:
            self._close_engines()
            self._loaded_spec = spec
            self.view.title.setText(self.model_combo.currentText())
            self.view.setPlaceholderText(
                # Short: a text edit draws its placeholder on one line, unwrapped (the longer one ran
                # past a 1200-pixel window).
                "This is the base model: it has not learned your documents. Train on your pairs (step 3)."
                if spec == "bundled" else "Ask your model about your documents."
            )
            self.load_bar.start(LoadChatModelJob(self.workspace, spec), "Loading the model")
        elif self.compare.isChecked() and self.base_engine is None:
            self.load_bar.start(LoadChatModelJob(self.workspace, spec, base_of_spec=True), "Loading the base model")

    def _switch_adapter(self, spec) -> bool:
        """Put another adapter file on the loaded base instead of loading the base again
        (milliseconds instead of seconds); False when SPEC is not an adapter on that base."""
        import time

        if self.ask_bar.is_busy():
            return False
        target = switchable_adapter(self.db, spec, self.engine.model_path)
        if target is None:
            return False
        started = time.perf_counter()
        try:
            self.engine.use_adapter(target.adapter, target.name, target.collection_id)
        except KwdeskError as exc:
            self.message.setText(f"Cannot switch: {exc}")
            return False
        self._loaded_spec = spec
        self.view.title.setText(self.model_combo.currentText())
        took = (time.perf_counter() - started) * 1000
        if self.conversation is None:
            self.new_conversation()
        self.message.setText(f"Switched to {target.name} on the loaded base in {took:.0f} ms.")
        return True

    def _loaded(self, engine: ChatEngine) -> None:
        job = self.load_bar.job
        if job is not None and job.base_of_spec:
            self.base_engine = engine
            self.base_view.title.setText(f"Base: {engine.model_name}")
            self.base_conversation = None
        else:
            self.engine = engine
            if self.conversation is None:
                self.new_conversation()

    def _load_failed(self, message: str) -> None:
        self._load_failed_once = True
        self.message.setText(f"Cannot load the model: {message}")
        self._pending_question = None

    def _load_finished(self) -> None:
        freeze_long_lived()  # the engine's objects live as long as the chat: out of full collections
        if self.engine is not None and self._loaded_spec != self.selected_spec():
            # The user chose another model while this one loaded: an adapter on the same
            # base switches at once (and the question waiting goes to it), another loads.
            self.ensure_loaded()
            if self.load_bar.is_busy():
                return
        # The base is loaded after the personal model, then any question waiting is asked.
        if self.engine is not None and self.compare.isChecked() and self.base_engine is None and not self._load_failed_once:
            self.ensure_loaded()
            return
        if self._pending_question and self.engine is not None:
            question, self._pending_question = self._pending_question, None
            self._ask(question)

    def _model_changed(self) -> None:
        if self.ask_bar.is_busy():
            self.ask_bar.shutdown()
            self._ask_finished()
        self.conversation = None
        self.base_conversation = None
        for view in self.views:
            view.clear()
        self.apply_measured_mode()
        self.ensure_loaded()

    def apply_measured_mode(self) -> None:
        """Start the chosen model in the mode its newest evaluation measured better; the
        box stays the expert's to switch, and its tooltip says why it was set."""
        spec = self.selected_spec()
        model_id = int(spec) if isinstance(spec, str) and spec.isdigit() else None
        mode = measured_mode(self.db, model_id)
        self.knows.setText(what_it_knows(self.db, model_id))
        self.sources.setChecked(mode.with_sources)
        self.sources.setToolTip(f"{mode.why}\nWith sources, the model is given the best-matching passages of your "
                                "documents and cites them by page.")
        self._mode_note = mode.why if mode.measured else ""
        if mode.measured:
            self.message.setText(mode.why)

    def _compare_toggled(self, on: bool) -> None:
        self.base_panel.setVisible(on)
        if on and self.engine is not None:
            self.ensure_loaded()

    def _close_engines(self) -> None:
        for engine in (self.engine, self.base_engine):
            if engine is not None:
                engine.close()
        self.engine = self.base_engine = None

    # --- conversations --------------------------------------------------------------------------

    def new_conversation(self) -> None:
        for view in self.views:
            view.clear()
        self.conversation = self.engine.new_conversation() if self.engine is not None else None
        self.base_conversation = None
        self.message.setText(self._mode_note)  # which mode answers, and why, until the first question
        self.input.setFocus()

    def refresh_history(self) -> None:
        self.history.clear()
        for conversation in list_conversations(self.db):
            if not conversation["messages"]:
                continue
            item = QListWidgetItem(f"{conversation['title']}\n{short_date(conversation['created_at'])} · "
                                   f"{conversation['model']} · {conversation['mode']}")
            item.setData(Qt.ItemDataRole.UserRole, conversation["id"])
            item.setToolTip(conversation["created_at"])
            self.history.addItem(item)

    def _open_conversation(self, item: QListWidgetItem) -> None:
        if self.ask_bar.is_busy():
            return
        conversation_id = item.data(Qt.ItemDataRole.UserRole)
        self.view.clear()
        for message in conversation_messages(self.db, conversation_id):
            self.view.add_turn(message["role"], message["content"])
            if message["stopped"] == "cancelled":
                self.view.add_note("stopped")
            if message["sources"] and message["role"] == "assistant":
                texts = [chunk_text(self.db, source.get("chunk_id")) for source in message["sources"]]
                self.view.mark_claims(answer_segments(message["content"], texts), message["sources"])
                self.view.add_sources(message["sources"])
        self.conversation = conversation_id  # the next question goes on with it
        self.base_view.clear()
        self.base_conversation = None

    # --- asking -----------------------------------------------------------------------------------

    def send(self) -> None:
        question = self.input.toPlainText().strip()
        if self.ask_bar.is_busy():
            return
        if not question:
            self.message.setText("Type a question first: Enter sends it, Shift+Enter starts a new line.")
            return
        self.input.clear()
        self.message.setText("")
        if self.engine is None or self.load_bar.is_busy() or (self.compare.isChecked() and self.base_engine is None):
            self._pending_question = question
            self.ensure_loaded()
            return
        self._ask(question)

    def _ask(self, question: str) -> None:
        if self.conversation is None:
            self.conversation = self.engine.new_conversation()
        targets = [(self.engine, self.conversation)]
        self.view.add_turn("user", question)
        self.view.add_turn("assistant")
        if self.compare.isChecked() and self.base_engine is not None:
            if self.base_conversation is None:
                self.base_conversation = self.base_engine.new_conversation()
            targets.append((self.base_engine, self.base_conversation))
            self.base_view.add_turn("user", question)
            self.base_view.add_turn("assistant")
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self._asked_with_sources = self.sources.isChecked()
        self.ask_bar.start(AskJob(targets, question, with_sources=self._asked_with_sources), "Answering")

    def _on_token(self, p) -> None:
        token = p.token
        if token:
            self.views[(p.target or 0)].add_text(token)

    def _answered(self, answers) -> None:
        for view, answer in zip(self.views, answers):
            if answer.stopped == "cancelled":
                view.add_note("stopped")
            elif answer.stopped == "length":
                view.add_note("cut at the length limit")
            if answer.segments:
                view.mark_claims(answer.segments, answer.sources)
                view.add_note(claims_summary(answer.claims))
            if answer.on_its_own:
                view.add_note("answered on its own: the question does not refer to the conversation before it")
            if answer.sources:
                view.add_sources(answer.sources)
            elif answer.stopped != "cancelled":
                # Whether the documents were in the prompt, said at each answer.
                view.add_note("no passage of your documents matched: answered from what the model learned"
                              if self._asked_with_sources else "answered from what the model learned, without sources")

    def _ask_finished(self) -> None:
        self.send_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.refresh_history()

    def _source_clicked(self, url: QUrl) -> None:
        if url.scheme() != SOURCE_SCHEME:
            return
        document_id, _, page = url.path().partition("/")
        if document_id.isdigit() and page.isdigit():
            self.source_requested.emit(int(document_id), int(page))

    # --- lifecycle --------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        return self.ask_bar.is_busy() or self.load_bar.is_busy()

    def shutdown(self) -> None:
        self.ask_bar.shutdown()
        self.load_bar.shutdown()
        self._close_engines()
        self.db.close()
