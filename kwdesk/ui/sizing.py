"""Widgets that keep the window inside the screen whatever names the user's data has.

A combo box sizes itself to its longest entry by default, and an unwrapped label to its
text: a long document or model name, or a long summary, then widened the whole window past
a 1280-pixel screen. These helpers give such widgets a width of their own."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox


def bounded_combo(chars: int = 28) -> QComboBox:
    """A combo box about CHARS characters wide, whatever its entries (the open list shows
    them whole)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo
