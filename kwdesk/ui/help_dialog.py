"""Help: the keyboard shortcuts (F1) and About kwdesk (versions, for a bug report)."""

from __future__ import annotations

import html

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kwdesk.core.app.doctor import package_versions

# Every key the window answers to, by where it works.
SHORTCUTS = (
    ("Anywhere", (("Ctrl+1 … Ctrl+5", "Go to a step: Documents, Data, Train, Chat, Models"),
                  ("Ctrl+,", "Settings"), ("F1", "This list of keys"), ("Ctrl+Q", "Quit (asks first when a job runs)"))),
    ("Documents", (("Delete", "Remove the selected documents and the pairs made from them (asks first)"),)),
    ("Data: the table of pairs", (("Y", "Approve the pair and go to the next"), ("N", "Reject it and go to the next"),
                                  ("U", "Back to not reviewed"), ("E", "Keep it for testing the model (never trained)"),
                                  ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo the last change"),
                                  ("Up / Down", "The pair before / after"))),
    ("Chat", (("Enter", "Send the question"), ("Shift+Enter", "A new line in the question"))),
)


def shortcuts_html() -> str:
    parts = []
    for where, keys in SHORTCUTS:
        rows = "".join(f"<tr><td style='padding-right:16px'><b>{html.escape(key)}</b></td><td>{html.escape(what)}</td></tr>"
                       for key, what in keys)
        parts.append(f"<h3>{html.escape(where)}</h3><table>{rows}</table>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.text = QTextBrowser()
        self.text.setHtml(shortcuts_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 520)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About kwdesk")
        versions = {**package_versions(), "Qt": qVersion(), "PySide6": pyside_version}
        rows = "".join(f"<tr><td style='padding-right:16px'>{html.escape(name)}</td><td>{html.escape(str(v))}</td></tr>"
                       for name, v in versions.items())
        self.label = QLabel(
            f"<h2>kwdesk {html.escape(versions['kwdesk'])}</h2>"
            "<p>Teach the knowledge in your documents to a small model on your own computer, and ask it offline.</p>"
            f"<table>{rows}</table><p>For a bug report: <code>kwdesk doctor</code> prints these and more.</p>")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
