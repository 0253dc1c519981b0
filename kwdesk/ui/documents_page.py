"""Documents: drop files and folders, watch the import, read a document page by page."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.ingest.importer import ImportJob, ImportOptions, ImportResult
from kwdesk.core.store.collections import (
    CollectionError,
    create_collection,
    list_collections,
    move_documents,
)
from kwdesk.core.store.documents import (
    DocumentRow,
    hidden_text_samples,
    list_documents,
    page_text,
    remove_document,
)
from kwdesk.core.store.workspace import Workspace
from kwdesk.core.text.blocks import page_parts
from kwdesk.ui.job_bar import JobBar
from kwdesk.ui.sizing import bounded_combo
from kwdesk.ui.theme import error_color, themed, warning_color


def page_html(text: str) -> str:
    """A page's text as the reader shows it: paragraphs, and tables drawn as tables. Every
    character of the file is escaped."""
    out = []
    for part in page_parts(text):
        if isinstance(part, str):
            for paragraph in part.split("\n\n"):
                if paragraph.strip():
                    out.append("<p>" + "<br>".join(html.escape(line) for line in paragraph.split("\n")) + "</p>")
            continue
        header, *rows = part
        cells = "".join(f"<th>{html.escape(c)}</th>" for c in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        out.append(f'<table border="1" cellspacing="0" cellpadding="4"><tr>{cells}</tr>{body}</table>')
    return "".join(out)


class DocumentsTableModel(QAbstractTableModel):
    """The workspace's documents, one row each; a few hundred rows at most, held whole."""

    COLUMNS = ("Document", "Status", "Pages", "Chunks", "Reason / title", "Collection")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DocumentRow] = []

    def set_rows(self, rows: list[DocumentRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.name + (f"  (v{row.version})" if row.version > 1 else "")
            if column == 1:
                return row.status
            if column == 2:
                return row.pages if row.status == "imported" else ""
            if column == 3:
                return row.chunks if row.status == "imported" else ""
            if column == 4:
                return row.reason if row.status == "rejected" else row.title
            return row.collection or ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.source_path + (f"\n{row.reason}" if row.reason else "")
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "rejected" and column in (1, 4):
            return QColor(error_color())
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class DocumentsPage(QWidget):
    """The first step of the flow. Import runs in a worker; the table shows each verdict."""

    import_finished = Signal(list)  # list[ImportResult]
    sample_requested = Signal()
    busy_changed = Signal(str)  # what runs now, "" when idle
    generate_requested = Signal(list)  # chunk ids: new passages of a changed document
    collections_changed = Signal()
    documents_removed = Signal()
    ALL = -1  # the collection combo's "all documents"

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._db = workspace.connect()  # reads on the main thread; the import writes in its own
        self._queued: list[Path] = []
        self._results: list[ImportResult] | None = None  # of the import that just ended
        self._shown_page: tuple[int, int, int] | None = None  # (document, version, page) in the reader

        self.model = DocumentsTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._show_selected)

        self.empty_hint = QLabel(
            "<h2>Drop your documents here</h2>"
            "<p>Drop PDF, Word, OpenDocument, HTML, EPUB, text or Markdown files, or whole folders, "
            "anywhere on this window.<br>"
            "kwdesk reads them, splits them into passages, and keeps everything in your workspace.</p>"
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setTextFormat(Qt.TextFormat.RichText)
        self.empty_hint.setObjectName("emptyHint")

        self.add_button = themed(QPushButton("Add files…"), "add")
        self.add_button.clicked.connect(self._choose_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._choose_folder)
        # The app's one way to run a job: progress with the time left, cancel, readable errors.
        # How an import ended goes in the status line below the table, not in the bar.
        self.job_bar = JobBar(show_idle_message=False, show_messages=False)
        self.job_bar.progressed.connect(self._on_progress)
        self.job_bar.succeeded.connect(self._on_done)
        self.job_bar.failed.connect(self._on_failed)
        self.job_bar.cancelled.connect(lambda: self.status_label.setText("Import cancelled. Files already imported are kept."))
        self.job_bar.finished.connect(self._on_finished)
        self.job_bar.busy_changed.connect(lambda what: self.busy_changed.emit("Importing documents…" if what else ""))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Knowledge collections: the table shows one (or all), and files added go into it.
        self.collection_combo = bounded_combo()
        self.collection_combo.setToolTip("Show one knowledge collection; files you add go into it")
        self.collection_combo.currentIndexChanged.connect(self._collection_chosen)
        self.move_button = QPushButton("Move to…")
        self.move_button.setToolTip("Put the selected document (all its versions) into a knowledge collection")
        self.move_menu = QMenu(self.move_button)
        self.move_menu.aboutToShow.connect(self._fill_move_menu)
        self.move_button.setMenu(self.move_menu)
        self.changes_button = QPushButton("What changed…")
        self.changes_button.setToolTip("For a document imported again with new content: passages removed and added, "
                                       "pairs to retire, passages to generate for")
        self.changes_button.clicked.connect(self.show_changes)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setToolTip("Take the selected document out of the workspace with the pairs made from it "
                                      "(Delete key; your file is not touched)")
        self.remove_button.clicked.connect(lambda: self.remove_selected())
        remove_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        remove_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove_key.activated.connect(lambda: self.remove_selected())

        top = QHBoxLayout()
        top.addWidget(self.add_button)
        top.addWidget(self.add_folder_button)
        top.addWidget(self.job_bar, 1)
        top.addStretch(0)
        top.addWidget(QLabel("Collection:"))
        top.addWidget(self.collection_combo)
        top.addWidget(self.move_button)
        top.addWidget(self.changes_button)
        top.addWidget(self.remove_button)

        # The reader: a document's text page by page. The file's text is escaped, always:
        # only the reader's own markup (paragraphs, tables) is HTML.
        self.page_spin = QSpinBox()
        self.page_spin.setPrefix("Page ")
        self.page_spin.setMinimum(1)
        self.page_spin.valueChanged.connect(self._show_page)
        self.page_title = QLabel()
        self.page_title.setTextFormat(Qt.TextFormat.PlainText)
        self.page_title.setWordWrap(True)
        self.page_view = QTextBrowser()
        self.page_view.setOpenLinks(False)
        self.page_view.setOpenExternalLinks(False)
        self.page_view.setFont(QFont("Serif", 11))
        self.hidden_label = QLabel()
        self.hidden_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hidden_label.setWordWrap(True)
        self.hidden_label.setStyleSheet(f"color: {warning_color()};")
        self.hidden_label.hide()
        reader = QWidget()
        reader_layout = QVBoxLayout(reader)
        reader_layout.setContentsMargins(0, 0, 0, 0)
        reader_head = QHBoxLayout()
        reader_head.addWidget(self.page_title, 1)
        reader_head.addWidget(self.page_spin)
        reader_layout.addLayout(reader_head)
        reader_layout.addWidget(self.hidden_label)
        reader_layout.addWidget(self.page_view)

        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(reader)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 400])

        # A first start: what to do, and a way to see kwdesk work before trusting it with one's own files.
        self.sample_button = themed(QPushButton("Try it on a sample"), "sample")
        self.sample_button.setToolTip("Imports a two-page handbook of invented facts that ships with kwdesk and "
                                      "teaches it to a model: about ten minutes on a laptop")
        self.sample_button.clicked.connect(self.sample_requested)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_hint)
        empty_layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty_layout.addStretch(1)
        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(splitter)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status_label)
        self.refresh()

    # --- state -------------------------------------------------------------------------

    def refresh(self) -> None:
        selected = self._selected()
        self._fill_collections()
        wanted = self.collection_combo.currentData()
        rows = list_documents(self._db, collection_id=None if wanted in (None, self.ALL) else wanted)
        self.model.set_rows(rows)
        self.stack.setCurrentIndex(1 if self.model.rows else 0)
        # Keep the reader on the same document, or show the first one.
        ids = [row.id for row in self.model.rows]
        if ids:
            row = ids.index(selected.id) if selected is not None and selected.id in ids else 0
            self.table.selectRow(row)
        else:
            self._show_selected()

    def is_busy(self) -> bool:
        return self.job_bar.is_busy()

    # --- collections -------------------------------------------------------------------

    def _fill_collections(self) -> None:
        current = self.collection_combo.currentData()
        self.collection_combo.blockSignals(True)
        self.collection_combo.clear()
        self.collection_combo.addItem("All documents", self.ALL)
        for collection in list_collections(self._db):
            self.collection_combo.addItem(collection.name, collection.id)
        self.collection_combo.addItem("In no collection", 0)
        index = self.collection_combo.findData(current) if current is not None else 0
        self.collection_combo.setCurrentIndex(max(0, index))
        self.collection_combo.blockSignals(False)

    def current_collection_id(self) -> int | None:
        """The collection new files go into (None: no collection)."""
        data = self.collection_combo.currentData()
        return data if data not in (None, self.ALL, 0) else None

    def select_collection(self, collection_id: int | None) -> None:
        self._fill_collections()
        index = self.collection_combo.findData(self.ALL if collection_id is None else collection_id)
        self.collection_combo.setCurrentIndex(max(0, index))

    def _collection_chosen(self, *_args) -> None:
        self.refresh()

    def _fill_move_menu(self) -> None:
        self.move_menu.clear()
        for collection in list_collections(self._db):
            self.move_menu.addAction(collection.name, lambda c=collection: self.move_selected(c))
        self.move_menu.addAction("No collection", lambda: self.move_selected(None))
        self.move_menu.addSeparator()
        self.move_menu.addAction("New collection…", self._new_collection_for_selected)

    def new_collection(self, name: str):
        try:
            made = create_collection(self._db, name)
        except CollectionError as exc:
            QMessageBox.warning(self, "kwdesk", str(exc))
            return None
        self.collections_changed.emit()
        return made

    def _new_collection_for_selected(self) -> None:
        name, ok = QInputDialog.getText(self, "New collection", "Name (for example: contracts, maintenance manuals):")
        if ok and name.strip():
            made = self.new_collection(name)
            if made is not None:
                self.move_selected(made)

    def move_selected(self, collection) -> None:
        doc = self._selected()
        if doc is None:
            return
        move_documents(self._db, collection, [doc.id])
        self.status_label.setText(f"{doc.name} is now in {collection.name if collection else 'no collection'}.")
        self.refresh()
        self.collections_changed.emit()

    def remove_selected(self, *, confirm: bool = True) -> None:
        doc = self._selected()
        if doc is None:
            return
        pairs = self._db.execute("SELECT count(*) FROM pairs WHERE document_id IN "
                                 "(SELECT id FROM documents WHERE source_path = ?)", [doc.source_path]).fetchone()[0]
        if confirm:
            answer = QMessageBox.question(
                self, "Remove a document",
                f"Remove {doc.name} from the workspace, with the {pairs} pair{'' if pairs == 1 else 's'} made from it? "
                "Your file stays where it is, and models you trained keep what they learned.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        removed = remove_document(self._db, doc.id)
        self.status_label.setText(removed.in_words())
        self.refresh()
        self.documents_removed.emit()

    def show_changes(self):
        """The changes of the selected document's newest version, in a dialog (returned)."""
        from kwdesk.ui.changes_dialog import ChangesDialog

        doc = self._selected()
        if doc is None or doc.version < 2:
            return None
        dialog = ChangesDialog(self._db, doc.id, self)
        dialog.generate_requested.connect(self.generate_requested)
        dialog.open()
        return dialog

    def shutdown(self) -> None:
        """Cancel a running import, wait for it, and let nothing of it arrive afterwards."""
        if self.job_bar.is_busy():
            self._queued.clear()
            self.job_bar.shutdown(60_000)  # its queued results must not reach a closed page
        self._db.close()

    # --- import ------------------------------------------------------------------------

    def import_paths(self, paths: list[Path]) -> None:
        """Import PATHS in a worker; paths dropped meanwhile wait for the next round."""
        if self.job_bar.is_busy():
            self._queued.extend(paths)
            self.status_label.setText(f"{len(self._queued)} more waiting to be imported")
            return
        options = ImportOptions(collection_id=self.current_collection_id())
        self.job_bar.start(ImportJob(self.workspace, paths, options), "Importing documents")

    def cancel_import(self) -> None:
        if self.job_bar.is_busy():
            self._queued.clear()
            self.status_label.setText("Cancelling after the current file…")
            self.job_bar.cancel()

    def _on_progress(self, p) -> None:
        if p.result is not None:
            self.refresh()

    def _on_done(self, results: list[ImportResult]) -> None:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no files found"
        self.status_label.setText(f"Import done: {summary}.")
        self._results = results  # announced once the job bar is idle (_on_finished)

    def _on_failed(self, message: str) -> None:
        self.status_label.setText(f"Import stopped: {message}")

    def _on_finished(self) -> None:
        self.refresh()
        # Announced only now that nothing runs: a listener (or a user closing the window
        # on "Import done") never meets a page that still counts as busy.
        results, self._results = self._results, None
        if results is not None:
            self.import_finished.emit(results)
        if self._queued:
            queued, self._queued = self._queued, []
            self.import_paths(queued)

    def _choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", str(Path.home()), "Documents (*.pdf *.docx *.odt *.html *.htm *.epub *.txt *.md *.markdown);;All files (*)"
        )
        if files:
            self.import_paths([Path(f) for f in files])

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of documents", str(Path.home()))
        if folder:
            self.import_paths([Path(folder)])

    # --- reader ------------------------------------------------------------------------

    def _selected(self) -> DocumentRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def _show_selected(self, *_args) -> None:
        doc = self._selected()
        self.move_button.setEnabled(doc is not None and doc.status == "imported")
        self.changes_button.setEnabled(doc is not None and doc.version > 1)
        self.remove_button.setEnabled(doc is not None)
        if doc is None or doc.status != "imported":
            self.page_title.setText(doc.reason if doc else "")
            self.page_view.setPlainText("")
            self._shown_page = None
            self.hidden_label.hide()
            self.page_spin.setEnabled(False)
            return
        unit = "page" if doc.page_unit == "page" else "section"
        self.page_title.setText(f"{doc.title or doc.name}  ({doc.pages} {unit}{'s' * (doc.pages != 1)})")
        self.page_spin.setPrefix(f"{unit.title()} ")
        self.hidden_label.setVisible(doc.hidden_chars > 0)
        samples = hidden_text_samples(self._db, doc.id) if doc.hidden_chars else []
        example = f' For example: "{samples[0][:120]}"' if samples else ""
        self.hidden_label.setText(
            f"{doc.hidden_chars} characters of hidden text were left out of this document (white on white, "
            "too small to read, outside the page, or hidden by a style): text a reader cannot see is not "
            f"trained.{example}"
        )
        # The same document again (the table refreshed during an import): the reader stays on its page.
        same = self._shown_page is not None and self._shown_page[:2] == (doc.id, doc.version)
        page = min(self.page_spin.value(), max(1, doc.pages)) if same else 1
        self.page_spin.setEnabled(True)
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(max(1, doc.pages))
        self.page_spin.setValue(page)
        self.page_spin.blockSignals(False)
        self._show_page(page)

    def _show_page(self, number: int) -> None:
        doc = self._selected()
        if doc is None:
            return
        shown = (doc.id, doc.version, number)
        if shown == self._shown_page:
            return  # laid out already: a rich-text page takes tens of ms, and refreshes come often
        text = page_text(self._db, doc.id, number)
        self.page_view.setHtml(page_html(text) if text else "<p><i>(no text here)</i></p>")
        self._shown_page = shown

    def show_page(self, document_id: int, page: int) -> bool:
        """Open the reader on a document's page (a citation clicked in the chat)."""
        self.refresh()
        ids = [row.id for row in self.model.rows]
        if document_id not in ids:
            return False
        self.table.selectRow(ids.index(document_id))
        self.page_spin.setValue(max(1, min(page, self.page_spin.maximum())))
        self._show_page(self.page_spin.value())
        return True
