"""The training loss as a line, painted by hand.

QtCharts is not in PySide6-Essentials and a chart library would be a large dependency for
one line; a few QPainter calls draw it, and the widget repaints only when a step arrives.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from kwdesk.ui.theme import accent_color


class LossCurve(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.losses: list[float] = []
        self.total_steps: int | None = None
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_losses(self, losses: list[float], total_steps: int | None = None) -> None:
        self.losses = list(losses)
        self.total_steps = total_steps
        self.update()

    def add(self, loss: float, total_steps: int | None = None) -> None:
        self.losses.append(float(loss))
        if total_steps:
            self.total_steps = total_steps
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        plot = QRectF(self.rect()).adjusted(48, 12, -16, -28)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(plot)
        text_pen = QPen(self.palette().text().color())
        if not self.losses:
            painter.setPen(text_pen)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "How far the answers are from your pairs appears here while the model trains.")
            return
        steps = max(self.total_steps or 0, len(self.losses), 2)
        top, bottom = max(self.losses), min(self.losses)
        if top - bottom < 1e-6:
            top, bottom = top + 0.5, max(0.0, bottom - 0.5)
        span = top - bottom

        def point(index: int, value: float) -> QPointF:
            x = plot.left() + plot.width() * index / (steps - 1)
            y = plot.bottom() - plot.height() * (value - bottom) / span
            return QPointF(x, y)

        painter.setPen(text_pen)
        for value in (top, bottom + span / 2, bottom):
            y = point(0, value).y()
            painter.drawText(QRectF(0, y - 8, 44, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{value:.2f}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), 20), Qt.AlignmentFlag.AlignLeft, "step 1")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), 20), Qt.AlignmentFlag.AlignRight, f"step {steps}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 4, plot.width(), 20), Qt.AlignmentFlag.AlignHCenter, "error on your pairs (training loss)")
        path = QPainterPath(point(0, self.losses[0]))
        for index, value in enumerate(self.losses[1:], 1):
            path.lineTo(point(index, value))
        painter.setPen(QPen(QColor(accent_color()), 2))
        painter.drawPath(path)
        painter.setBrush(QColor(accent_color()))
        painter.drawEllipse(point(len(self.losses) - 1, self.losses[-1]), 3, 3)
