"""The Qt binding must not leak or drop references: a long-running app depends on it.

PySide6 6.12.0 with Python 3.11 dropped one reference to None on every call of a method
that returns nothing; after a few thousand calls the interpreter died. pyproject pins
below it; this test fails if a binding with that fault comes back.
"""

import sys

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLabel


def test_void_calls_keep_the_reference_count_of_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    model = QStandardItemModel(10, 1)
    before = sys.getrefcount(None)
    for i in range(2_000):
        label.setText(str(i))
        model.setItem(i % 10, 0, QStandardItem("a"))
    assert sys.getrefcount(None) >= before - 50
