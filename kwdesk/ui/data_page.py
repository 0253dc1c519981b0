"""Data: review the Q&A pairs beside their source passages, from the keyboard.

y accepts, n rejects, u resets, arrows move; the next pair is selected after a verdict so
that a thousand pairs can be reviewed without the mouse. Every change is saved at once and
can be undone (Ctrl+Z). Text from documents and models is shown as plain text; the answer's
words are highlighted in the passage with character formats, never with HTML.
Generation and JSONL export/import run in workers, with progress and cancel.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QShortcut,
    QSyntaxHighlighter,
    QTextCharFormat,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.settings import load_settings
from kwdesk.core.app.teacher import teacher_choice
from kwdesk.core.data.conflicts import ConflictCount
from kwdesk.core.data.dataset_formats import FORMATS, HF_FOLDER, DatasetJob
from kwdesk.core.data.generate import (
    STRATEGIES,
    GenerateJob,
    GenerateOptions,
    GenerateResult,
)
from kwdesk.core.store.documents import cite_pages
from kwdesk.core.store.flagged import list_flagged
from kwdesk.core.store.pairs import (
    TABLE_COLUMNS,
    add_pair,
    counts_by,
    delete_pairs,
    filter_choices,
    provenance,
    reinsert_pairs,
    restore,
    set_split,
    set_status,
    snapshot,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.words import content_words
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.pairs_model import PairsTableModel
from kwdesk.ui.sizing import WrappedLabel, bounded_combo
from kwdesk.ui.theme import error_color, marked_background

STRATEGY_LABELS = {
    "qa": "Questions on each passage",
    "entities": "Questions on names and their relations",
    "rephrase": "Rephrasings of each passage",
    "paraphrase": "Other wordings of accepted questions",
}


# --- undo -------------------------------------------------------------------------------------


class SnapshotCommand(QUndoCommand):
    """A change to pairs, undone by writing back their state before it (core.pairs.snapshot).
    The change is already saved when the command is pushed, so the first redo does nothing."""

    def __init__(self, page: "DataPage", before: list, after: list, text: str) -> None:
        super().__init__(text)
        self.page, self.before, self.after = page, before, after
        self._applied = True

    def undo(self) -> None:
        restore(self.page.db, self.before)
        self.page.pairs_changed([row[0] for row in self.before])

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        restore(self.page.db, self.after)
        self.page.pairs_changed([row[0] for row in self.after])


class AddCommand(QUndoCommand):
    def __init__(self, page: "DataPage", pair_id: int) -> None:
        super().__init__("add a pair")
        self.page, self.pair_id, self.rows = page, pair_id, None
        self._applied = True

    def undo(self) -> None:
        self.rows = delete_pairs(self.page.db, [self.pair_id])
        self.page.reload()

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        reinsert_pairs(self.page.db, self.rows or [])
        self.page.reload()


# --- dialogs ------------------------------------------------------------------------------------


class AddPairDialog(QDialog):
    def __init__(self, passage_label: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a pair")
        self.question = QPlainTextEdit()
        self.question.setPlaceholderText("The question a user would ask (leave empty for a text to learn as it is)")
        self.answer = QPlainTextEdit()
        self.answer.setPlaceholderText("The answer the model should give")
        self.link = QCheckBox(f"Link to the passage of the selected pair ({passage_label})" if passage_label else "")
        self.link.setChecked(bool(passage_label))
        self.link.setVisible(bool(passage_label))
        form = QFormLayout(self)
        form.addRow("Question", self.question)
        form.addRow("Answer", self.answer)
        form.addRow(self.link)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept_if_answered)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, 320)

    def _accept_if_answered(self) -> None:
        if self.answer.toPlainText().strip():
            self.accept()
        else:
            self.answer.setFocus()
            self.answer.setPlaceholderText("An answer is needed: an empty answer teaches nothing.")


class GeneratePanel(QGroupBox):
    """Choose strategies and pairs per chunk, start, and watch the counts as they come."""

    start_requested = Signal(object)  # GenerateOptions

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Generate pairs from the documents", parent)
        settings = load_settings()
        chosen = {s.strip() for s in settings.strategies.split(",")}
        self.checks = {}
        row = QHBoxLayout()
        for strategy in STRATEGIES:
            check = QCheckBox(STRATEGY_LABELS[strategy])
            check.setChecked(strategy in chosen)
            self.checks[strategy] = check
            row.addWidget(check)
        row.addStretch(1)
        self.per_chunk = QSpinBox()
        self.per_chunk.setRange(1, 20)
        self.per_chunk.setValue(settings.per_chunk)
        self.per_chunk.setSuffix(" questions per passage")
        self.again = QCheckBox("Also for passages that have pairs already")
        teacher = settings.teacher or "the bundled model"
        self.teacher_label = QLabel(f"Teacher: {teacher}  (change it in Settings)")
        self.teacher_label.setTextFormat(Qt.TextFormat.PlainText)
        self.teacher_label.setWordWrap(True)  # a teacher's URL or file name can be long
        self.start_button = QPushButton("Generate")
        self.start_button.clicked.connect(self._start)
        self.job_bar = JobBar()
        self.counts = QLabel()
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        # The summary of a generation is long; unwrapped it widened the window past the screen.
        self.counts.setWordWrap(True)
        self.warnings = QPlainTextEdit()
        self.warnings.setReadOnly(True)
        self.warnings.setMaximumHeight(90)
        self.warnings.hide()

        second = QHBoxLayout()
        second.addWidget(self.per_chunk)
        second.addWidget(self.again)
        second.addWidget(self.teacher_label, 1)
        second.addWidget(self.start_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(second)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.counts)
        layout.addWidget(self.warnings)
        self.job_bar.progressed.connect(self._on_progress)
        self.job_bar.succeeded.connect(self._on_done)
        self.job_bar.finished.connect(lambda: self.start_button.setEnabled(True))

    def options(self) -> GenerateOptions:
        strategies = tuple(s for s, check in self.checks.items() if check.isChecked())
        return GenerateOptions(strategies=strategies, per_chunk=self.per_chunk.value(), again=self.again.isChecked())

    def _start(self) -> None:
        options = self.options()
        if not options.strategies:
            self.job_bar.show_message("Choose at least one kind of data to make.", error=True)
            return
        self.start_requested.emit(options)

    def _on_progress(self, p) -> None:
        if p.pairs is not None:
            speed = p.tokens_per_second
            self.counts.setText(
                f"Made {p.pairs} · filtered out {(p.filtered or 0)}"
                + (f" · {p.warnings} passages gave nothing" if p.warnings else "")
                + (f" · teacher writes {speed:.0f} tokens/s" if speed else "")
            )

    def _on_done(self, result: GenerateResult) -> None:
        lines = []
        for strategy, report in result.reports.items():
            if report.attempts or report.usable:
                lines.append(f"{strategy}: {report.summary(top=4)}")
        nothing = not any(r.attempts for r in result.reports.values())
        self.counts.setText(
            "Nothing new to do: every passage has pairs from this teacher (tick 'Also for passages…' for more)."
            if nothing
            else f"{result.pairs_added} pairs added in {result.seconds:.0f} s. " + "; ".join(lines)
        )
        self.warnings.setVisible(bool(result.warnings))
        self.warnings.setPlainText("\n".join(result.warnings))


# --- the page -------------------------------------------------------------------------------------


FILL_EVERY_S = 3.0  # how often the table shows the pairs a running generation stored


class PassageMarker(QSyntaxHighlighter):
    """Marks the answer's words in the source passage as Qt lays the text out. Why not
    QTextCursor.mergeCharFormat per word: each merge changed the document and laid it out
    again, 70-130 ms for a long passage on the window's thread; this is about 2 ms."""

    def __init__(self, document) -> None:
        super().__init__(document)
        self._pattern: re.Pattern | None = None

    def set_words(self, words: set[str]) -> None:
        """Mark WORDS (whole words, any case) from the next layout on: set before the text."""
        longest_first = sorted(words, key=len, reverse=True)
        self._pattern = (re.compile(r"\b(?:" + "|".join(re.escape(w) for w in longest_first) + r")\b", re.IGNORECASE)
                         if longest_first else None)

    def highlightBlock(self, text: str) -> None:
        if self._pattern is None:
            return
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(marked_background()))
        for match in self._pattern.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), fmt)


class DataPage(QWidget):
    busy_changed = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.db = workspace.connect()
        self._shown_source: str | None = None  # the pair and passage on show, as last read
        self._conflict_count = ConflictCount()
        self.model = PairsTableModel(self.db)
        self.undo_stack = QUndoStack(self)
        self.model.edited.connect(lambda before, after: self.undo_stack.push(SnapshotCommand(self, before, after, "edit a pair")))

        # Filters
        self.document_filter = bounded_combo()
        self.strategy_filter = QComboBox()
        self.status_filter = QComboBox()
        self.status_filter.addItems(["all", "new", "accepted", "edited", "rejected"])
        self.learned_filter = QComboBox()
        for label, value in (("all", None), ("learned", True), ("not learned", False)):
            self.learned_filter.addItem(label, value)
        self.learned_filter.setToolTip("From the newest evaluation (Models step): did your model answer this fact "
                                       "when asked in new words?")
        self.learned_filter.currentIndexChanged.connect(self.apply_filters)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search questions and answers")
        self.search.setClearButtonEnabled(True)
        for combo in (self.document_filter, self.strategy_filter, self.status_filter):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.search.textChanged.connect(self.apply_filters)
        self.count_label = WrappedLabel()

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column, name in enumerate(TABLE_COLUMNS):
            mode = QHeaderView.ResizeMode.Stretch if name in ("question", "answer") else QHeaderView.ResizeMode.ResizeToContents
            header.setSectionResizeMode(column, mode)
        # A long file name took the room of the question and the answer: the document column
        # keeps a set width (its name whole in the tooltip and the source panel; the user can widen it).
        document_column = TABLE_COLUMNS.index("document")
        header.setSectionResizeMode(document_column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(document_column, 120)
        self.table.selectionModel().currentRowChanged.connect(self._show_source)

        # Actions
        buttons = QHBoxLayout()
        for label, status, key in (("Accept (y)", "accepted", "Y"), ("Reject (n)", "rejected", "N"), ("Reset (u)", "new", "U")):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, s=status: self.set_selected_status(s))
            buttons.addWidget(button)
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=status: self.set_selected_status(s))
        self.eval_button = QPushButton("For evaluation (e)")
        self.eval_button.setToolTip("Keep the selected pairs out of training: kwdesk asks them when it evaluates a model")
        self.eval_button.clicked.connect(self.toggle_selected_for_evaluation)
        buttons.addWidget(self.eval_button)
        shortcut = QShortcut(QKeySequence("E"), self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(self.toggle_selected_for_evaluation)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.undoTextChanged.connect(lambda text: self.undo_button.setToolTip(f"Undo {text} (Ctrl+Z)"))
        self.undo_button.setEnabled(False)
        for sequence, slot in ((QKeySequence.StandardKey.Undo, self.undo_stack.undo), (QKeySequence.StandardKey.Redo, self.undo_stack.redo)):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.add_button = QPushButton("Add pair…")
        self.add_button.clicked.connect(self.add_pair_by_hand)
        self.generate_button = QPushButton("Generate…")
        self.generate_button.setCheckable(True)
        self.more_button = QPushButton("More data for facts not learned")
        self.more_button.setToolTip("New wordings of the questions your model got wrong in the newest evaluation")
        self.more_button.clicked.connect(self.more_for_not_learned)
        self.export_button = QPushButton("Export JSONL…")
        self.export_button.clicked.connect(self._choose_export)
        self.import_button = QPushButton("Import JSONL…")
        self.import_button.clicked.connect(self._choose_import)
        self.conflicts_button = QPushButton("Conflicts")
        self.conflicts_button.setToolTip("Pairs whose questions ask the same thing but whose answers disagree: "
                                         "choose which is right before training")
        self.conflicts_button.clicked.connect(self.show_conflicts)
        self.flagged_button = QPushButton("Flagged")
        self.flagged_button.setToolTip("Sentences of the documents addressed to an AI model (\"ignore previous "
                                       "instructions\"): kept out of training until you decide")
        self.flagged_button.clicked.connect(self.show_flagged)
        self.coverage_button = QPushButton("Coverage")
        self.coverage_button.setToolTip("Every fact of the documents with the questions that ask for it, and the facts "
                                        "no question asks yet")
        self.coverage_button.clicked.connect(self.show_coverage)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        # A row for making data and one for checking and moving it, so the passage beside the
        # table keeps its room.
        data_buttons = QHBoxLayout()
        for button in (self.add_button, self.generate_button, self.more_button):
            data_buttons.addWidget(button)
        data_buttons.addStretch(1)
        check_buttons = QHBoxLayout()
        for button in (self.conflicts_button, self.flagged_button, self.coverage_button, self.export_button,
                       self.import_button):
            check_buttons.addWidget(button)
        check_buttons.addStretch(1)

        self.generate_panel = GeneratePanel()
        self.generate_panel.hide()
        self.generate_button.toggled.connect(self.generate_panel.setVisible)
        self.generate_panel.start_requested.connect(self.start_generation)
        self.generate_panel.job_bar.busy_changed.connect(self.busy_changed)
        self.generate_panel.job_bar.finished.connect(self.reload)
        # The table fills while generation stores pairs (a few seconds apart, the pair under
        # review kept selected), instead of only when it ends.
        self.generate_panel.job_bar.progressed.connect(self._pairs_arriving)
        self._filled_at = 0.0
        self._filled_pairs = 0
        self.dataset_bar = JobBar(show_idle_message=False)
        self.dataset_bar.busy_changed.connect(self.busy_changed)
        self.dataset_bar.succeeded.connect(self._dataset_done)

        # The whole pair (the table shows the start of each), its source passage and provenance
        self.pair_view = QTextBrowser()
        self.pair_view.setObjectName("pair_view")
        self.source_title = WrappedLabel()
        self.source_title.setTextFormat(Qt.TextFormat.PlainText)
        self.source_view = QPlainTextEdit()
        self.source_view.setReadOnly(True)
        self.marker = PassageMarker(self.source_view.document())
        self.provenance_label = WrappedLabel()
        self.provenance_label.setTextFormat(Qt.TextFormat.PlainText)
        source = QWidget()
        source_layout = QVBoxLayout(source)
        source_layout.setContentsMargins(0, 0, 0, 0)
        source_layout.addWidget(self.pair_view, 1)
        source_layout.addWidget(QLabel("Source passage"))
        source_layout.addWidget(self.source_title)
        source_layout.addWidget(self.source_view, 2)
        source_layout.addWidget(self.provenance_label)

        # Filters, buttons and the count in short rows: one long row of each set the table's
        # least width at 860 px, which left the source passage 155 px at a 1280-pixel window.
        filters = QHBoxLayout()
        for label, widget in (("Document", self.document_filter), ("Strategy", self.strategy_filter),
                              ("Status", self.status_filter)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)
        search_row = QHBoxLayout()
        search_row.addWidget(QLabel("Learned"))
        search_row.addWidget(self.learned_filter)
        self.search.setMinimumWidth(160)
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.count_label, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filters)
        left_layout.addLayout(search_row)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(buttons)
        left_layout.addLayout(data_buttons)
        left_layout.addLayout(check_buttons)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(source)
        splitter.setSizes([720, 360])

        layout = QVBoxLayout(self)
        layout.addWidget(self.generate_panel)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.dataset_bar)
        self.reload()

    # --- filters and reloading -----------------------------------------------------------------

    def show_conflicts(self):
        """The conflicting pairs, side by side with their sources (the dialog is returned)."""
        from kwdesk.ui.conflicts_dialog import ConflictsDialog

        dialog = ConflictsDialog(self.db, None, self)
        dialog.finished.connect(lambda _result: self.reload())
        dialog.open()
        return dialog

    def show_flagged(self):
        """The sentences addressed to a model, with their sources (the dialog is returned)."""
        from kwdesk.ui.flagged_dialog import FlaggedDialog

        dialog = FlaggedDialog(self.db, self)
        dialog.finished.connect(lambda _result: self.reload())
        dialog.open()
        return dialog

    def show_coverage(self):
        """The facts and the questions that ask for them (the dialog is returned)."""
        from kwdesk.ui.coverage_dialog import CoverageDialog

        dialog = CoverageDialog(self.workspace, self.db, self)
        dialog.finished.connect(lambda _result: self.reload())
        dialog.open()
        return dialog

    def _count_flagged(self) -> None:
        waiting = sum(1 for item in list_flagged(self.db) if item.decision is None)
        self.flagged_button.setText(f"Flagged ({waiting})" if waiting else "Flagged")
        self.flagged_button.setStyleSheet(f"color: {error_color()}; font-weight: bold" if waiting else "")

    def _count_conflicts(self) -> None:
        count = self._conflict_count(self.db)
        if count is None:  # too many pairs to count on every change: the dialog finds them
            self.conflicts_button.setText("Conflicts…")
            self.conflicts_button.setStyleSheet("")
            return
        self.conflicts_button.setText(f"Conflicts ({count})" if count else "Conflicts")
        self.conflicts_button.setStyleSheet(f"color: {error_color()}; font-weight: bold" if count else "")

    def reload(self) -> None:
        """Re-read the filter choices and the rows (after generation, import, undo of an add)."""
        self._count_conflicts()
        self._count_flagged()
        choices = filter_choices(self.db)
        for combo, items in (
            (self.document_filter, [(f"{name}" + (f" (v{version})" if version > 1 else ""), doc_id) for doc_id, name, version in choices["documents"]]),
            (self.strategy_filter, [(s, s) for s in choices["strategies"]]),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("all", None)
            for label, value in items:
                combo.addItem(label, value)
            index = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)
        self._refill()

    def _refill(self) -> None:
        # The pair the expert was on stays selected (closing the Conflicts dialog jumped to row 1).
        current = self.table.currentIndex()
        pair_id = self.model.pair_id(current.row()) if current.isValid() and current.row() < self.model.rowCount() else None
        self.apply_filters(select_first=pair_id is None)
        if pair_id is not None and not self.select_pair(pair_id) and self.model.rowCount():
            self.table.selectRow(0)  # filtered out meanwhile: the first row, as a fresh filter does

    def _pairs_arriving(self, p) -> None:
        import time

        if not p.pairs or p.pairs == self._filled_pairs or time.monotonic() - self._filled_at < FILL_EVERY_S:
            return
        self._filled_pairs, self._filled_at = p.pairs, time.monotonic()
        self._refill()

    def apply_filters(self, *_args, select_first: bool = True) -> None:
        status = self.status_filter.currentText()
        self.model.set_filters(
            status=None if status == "all" else status,
            strategy=self.strategy_filter.currentData(),
            document_id=self.document_filter.currentData(),
            text=self.search.text() or None,
            learned=self.learned_filter.currentData(),
        )
        count = self.model.rowCount()
        self.count_label.setText(f"{count} pair{'' if count == 1 else 's'}")
        if not count and not any(counts_by(self.db, "status").values()):
            self.count_label.setText("No pairs yet: Generate… makes them from your documents")
        if count and select_first:
            self.table.selectRow(0)
        elif not count:
            self._show_source()

    def select_pair(self, pair_id: int) -> bool:
        """Select PAIR_ID's row where the filters show it (a list scan: 100,000 ids take ms)."""
        try:
            row = self.model.ids.index(pair_id)
        except ValueError:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def pairs_changed(self, pair_ids: list[int]) -> None:
        self.model.refresh_rows(pair_ids)
        self._count_conflicts()
        self._show_source()

    # --- review -------------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.model.pair_id(row) for row in rows]

    def set_selected_status(self, status: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        before = snapshot(self.db, ids)
        set_status(self.db, ids, status)
        verb = {"accepted": "accept", "rejected": "reject", "new": "reset"}[status]
        self.undo_stack.push(SnapshotCommand(self, before, snapshot(self.db, ids), f"{verb} {len(ids)} pair{'s' * (len(ids) > 1)}"))
        self.model.refresh_rows(ids)
        self._count_conflicts()  # a rejected side settles a conflict: the button says so at once
        current = self.table.currentIndex().row()
        if len(ids) == 1 and current + 1 < self.model.rowCount():
            self.table.selectRow(current + 1)  # on to the next pair
        else:
            self._show_source()  # the side panel shows the new status of the pair still selected

    def toggle_selected_for_evaluation(self) -> None:
        """Held out for evaluation, or back to training when all selected are held out."""
        ids = self.selected_ids()
        if not ids:
            return
        before = snapshot(self.db, ids)
        held = all(row[4] == "eval" for row in before)
        set_split(self.db, ids, "train" if held else "eval")
        self.undo_stack.push(SnapshotCommand(self, before, snapshot(self.db, ids),
                                             f"{'train on' if held else 'hold out'} {len(ids)} pair{'s' * (len(ids) > 1)}"))
        self.pairs_changed(ids)

    def add_pair_by_hand(self) -> None:
        index = self.table.currentIndex()
        chunk_id, label = None, None
        if index.isValid():
            info = provenance(self.db, self.model.pair_id(index.row()))
            if info.get("passage"):
                chunk_id = info.get("chunk_id")
                label = f"{info.get('document')}, {cite_pages(info['page_start'], info['page_start'], info['page_unit'])}"
        dialog = AddPairDialog(label, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        pair_id = add_pair(
            self.db, dialog.question.toPlainText(), dialog.answer.toPlainText(),
            chunk_id=chunk_id if dialog.link.isChecked() else None,
        )
        self.undo_stack.push(AddCommand(self, pair_id))
        self.reload()
        if pair_id in self.model.ids:
            self.table.selectRow(self.model.ids.index(pair_id))

    # --- generation and JSONL -------------------------------------------------------------------

    def start_generation(self, options: GenerateOptions) -> None:
        teacher = teacher_choice(load_settings())  # opened in the worker
        if self.generate_panel.job_bar.is_busy():
            return
        self.generate_panel.counts.setText("")
        self.generate_panel.start_button.setEnabled(False)
        self.generate_panel.job_bar.start(GenerateJob(self.workspace, teacher, options), "Generating pairs")

    def more_for_not_learned(self) -> None:
        from kwdesk.core.data.generate import more_for_not_learned

        options = more_for_not_learned(self.db)
        if options is None:
            self.generate_panel.job_bar.show_message(
                "No fact is marked as not learned: evaluate a model first (Models step), or every fact was learned.")
            self.generate_button.setChecked(True)
            return
        self.generate_button.setChecked(True)
        self.start_generation(options)

    def _choose_export(self) -> None:
        filters = ";;".join([*(f"{fmt} JSONL (*.jsonl)" for fmt in FORMATS), f"{HF_FOLDER} (Hugging Face dataset folder) (*)"])
        path, chosen = QFileDialog.getSaveFileName(self, "Export the dataset", str(Path.home() / "dataset.jsonl"), filters)
        if path:
            fmt = chosen.split()[0] if chosen else "openai"
            target = Path(path)
            if fmt == HF_FOLDER and target.suffix == ".jsonl":
                target = target.with_suffix("")  # a folder, named as the user typed it
            self.export_dataset(target, fmt)

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a dataset", str(Path.home()),
            "JSONL (*.jsonl *.json);;Hugging Face dataset folder: its README.md (README.md);;All files (*)")
        if path:
            chosen = Path(path)
            # A dataset folder is opened by its card, which a file dialog can show.
            self.import_dataset(chosen.parent if chosen.name == "README.md" else chosen)

    def export_dataset(self, path: Path, fmt: str = "openai") -> None:
        self.dataset_bar.start(DatasetJob(self.workspace, "export", path, fmt), "Exporting the dataset")

    def import_dataset(self, path: Path) -> None:
        self.dataset_bar.start(DatasetJob(self.workspace, "import", path), "Importing a dataset")

    def _dataset_done(self, summary: dict) -> None:
        if summary["action"] == "export":
            self.dataset_bar.show_message(f"{summary['records']} records written to {summary['path']} ({summary['format']}).")
        else:
            self.dataset_bar.show_message(
                f"{summary['added']} pairs added, {summary['duplicates']} already here, "
                f"{summary['linked']} linked to their documents."
            )
            self.reload()

    # --- the source passage -------------------------------------------------------------------

    def _show_source(self, *_args) -> None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            self._shown_source = None
            self.source_view.setPlainText("")
            self.pair_view.setHtml("")
            self.source_title.setText("")
            self.provenance_label.setText("")
            return
        info = provenance(self.db, self.model.pair_id(index.row()))
        shown = repr(sorted(info.items()))
        if shown == self._shown_source:
            return  # the same pair as it was: laying out and marking its passage again takes tens of ms
        self._shown_source = shown
        passage = info.get("passage") or "(written by hand: no source passage)"
        pages = ""
        if info.get("page_start"):
            pages = f", {cite_pages(info['page_start'], info['page_end'], info.get('page_unit') or 'page')}"
        self.source_title.setText(
            f"{info.get('document') or 'no document'}{pages} · {info.get('strategy')} · made by {info.get('made_by')}"
        )
        self.provenance_label.setText(
            (f"Section: {info['heading_path']}\n" if info.get("heading_path") else "")
            + (f"Anchored to: {info['source_span']}\n" if info.get("source_span") else "")
            + f"Status: {info.get('status')}"
            + (" · held out for evaluation (never trained)" if info.get("split") == "eval" else "")
            + (f" · prompt {info['prompt_version']}" if info.get("prompt_version") else "")
        )
        self.marker.set_words(content_words(info.get("answer") or ""))  # marked as the text is laid out
        self.source_view.setPlainText(passage)
        self.pair_view.setHtml(
            f"<p><b>Question</b><br>{html.escape(info.get('question') or '(none: a passage to learn as it is)')}</p>"
            f"<p><b>Answer</b><br>{html.escape(info.get('answer') or '')}</p>")

    def summary(self) -> str:
        counts = counts_by(self.db, "status")
        return ", ".join(f"{n} {status}" for status, n in counts.items())

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.marker.rehighlight()  # the marks in the new palette's colour (dark: a dark yellow)
        super().changeEvent(event)

    def is_busy(self) -> bool:
        return self.generate_panel.job_bar.is_busy() or self.dataset_bar.is_busy()

    def shutdown(self) -> None:
        self.generate_panel.job_bar.shutdown()
        self.dataset_bar.shutdown()
        self.db.close()

