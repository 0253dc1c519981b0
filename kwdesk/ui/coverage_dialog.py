"""Which facts of the documents the questions ask for, and how many ways: the facts no
question asks first, each with its source, and a way to write the missing question in
place. The counting is core's (data/coverage.CoverageJob), run in a worker thread with
progress and cancel; this dialog shows it and asks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.data.coverage import CoverageJob, CoverageReport
from kwdesk.core.store.documents import cite_pages
from kwdesk.core.store.pairs import add_pair
from kwdesk.ui.job_bar import JobBar


class CoverageDialog(QDialog):
    counted = Signal()  # a count finished and the list shows it

    def __init__(self, workspace, db, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.db = workspace, db
        self.setWindowTitle("What the questions ask")
        self.resize(960, 560)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.write_button = QPushButton("Write a question for this fact…")
        self.write_button.clicked.connect(self.write_question)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.write_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        self.job_bar = JobBar(self, show_idle_message=False)
        self.job_bar.succeeded.connect(self._show)
        self.job_bar.failed.connect(lambda message: self.summary.setText(message))
        self.job_bar.cancelled.connect(lambda: self.summary.setText("Counting stopped: open the dialog again to count."))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.job_bar)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.report: CoverageReport | None = None
        self.write_button.setEnabled(False)
        self.reload()

    def reload(self) -> None:
        """Count again, in a worker thread: every sentence of every passage is read."""
        self.summary.setText("Reading the passages for their facts…")
        self.write_button.setEnabled(False)
        self.job_bar.start(CoverageJob(self.workspace), "Counting the facts")

    def _show(self, report: CoverageReport) -> None:
        row = max(0, self.list.currentRow())
        self.report = report
        facts = sorted(self.report.facts, key=lambda f: f.wordings)  # the facts not asked first
        total, wanted = len(facts), self.report.wanted
        self.summary.setText(
            f"{total} facts in the passages: {len(self.report.not_asked)} not asked yet, "
            f"{total - len(self.report.covered) - len(self.report.not_asked)} asked in fewer than {wanted} ways, "
            f"{len(self.report.covered)} in {wanted} or more. The model can only learn what some question asks, "
            "and learns a fact asked one way as that one wording."
        )
        self.list.clear()
        for fact in facts:
            asked = "not asked yet" if not fact.wordings else f"asked {fact.wordings} way{'s' * (fact.wordings != 1)}"
            # Plain text: the fact is the document's, never markup.
            entry = QListWidgetItem(f"{fact.fact}\n    {fact.document}, {cite_pages(fact.page, fact.page)} · {asked}")
            entry.setData(Qt.ItemDataRole.UserRole, fact)
            if not fact.wordings:
                entry.setForeground(Qt.GlobalColor.darkRed)
            self.list.addItem(entry)
        if facts:
            self.list.setCurrentRow(min(row, len(facts) - 1))
        self.write_button.setEnabled(bool(facts))
        self.layout().activate()  # the summary's new lines get their height now, not at the next event
        self.counted.emit()

    def done(self, result: int) -> None:
        self.job_bar.shutdown()  # closed while counting: stop the count, nothing arrives after
        super().done(result)

    def write_question(self) -> None:
        entry = self.list.currentItem()
        if entry is None:
            return
        fact = entry.data(Qt.ItemDataRole.UserRole)
        question, ok = QInputDialog.getText(self, "Write a question", f"A question whose answer is:\n{fact.fact}")
        if ok and question.strip():
            add_pair(self.db, question, fact.fact, chunk_id=fact.chunk_id)
            self.reload()
