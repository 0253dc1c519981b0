"""The evaluation chart (SVG from core.eval_report) as an image, with Qt's SVG renderer."""

from __future__ import annotations

import os
from pathlib import Path


def svg_to_image(svg: str, scale: float = 1.0):
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    size = renderer.defaultSize() * scale
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def save_png(svg: str, path: Path, scale: float = 2.0) -> Path:
    """Write the chart as PNG; from a terminal too (an offscreen Qt GUI application is made)."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        save_png._app = QGuiApplication([])  # kept alive for the process
    if not svg_to_image(svg, scale).save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return Path(path)
