"""Widgets that keep the window inside the screen whatever names the user's data has.

A combo box sizes itself to its longest entry by default, and an unwrapped label to its
text: a long document or model name, or a long summary, then widened the whole window past
a 1280-pixel screen. These helpers give such widgets a width of their own, and a wrapped
label the height of its lines."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QLabel, QScrollArea, QWidget


def bounded_combo(chars: int = 28) -> QComboBox:
    """A combo box about CHARS characters wide, whatever its entries (the open list shows
    them whole)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


class WrappedLabel(QLabel):
    """A word-wrapped label that keeps the height its lines take at its width.

    A wrapped QLabel's minimum height is one guess for every width: where a window is short
    of room, the box layout squeezed the Train page's settings (four lines under Advanced)
    to two and a half, cutting the first and last lines in half. Reading the height for the
    label's own width at each change of text or width keeps every line whole; the rest of
    the page (the loss curve) gives way instead."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.width() > 0:
            self.setMinimumHeight(max(0, self.heightForWidth(self.width())))  # -1: no text


def scrolling(content: QWidget) -> QScrollArea:
    """CONTENT in a frameless area that scrolls down when it is taller than the room it has,
    instead of growing the window past the screen or squeezing its lines; it never scrolls
    sideways (its wrapped lines take the width)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(content)
    return scroll
