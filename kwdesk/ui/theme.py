"""The look: the system's light or dark colours, and icons from a maintained icon set.

Icons come from qtawesome (Material Design Icons 6, drawn from a font, so they are sharp at
any DPI and take the palette's text colour: a dark palette gets light icons). The palette
follows the system's colour scheme where Qt can read it (Windows, macOS, GNOME and KDE
through their platform themes); the Appearance setting can ask for light or dark
whatever the system says. Dark uses Qt's Fusion style with a dark palette, the way napari
and Anki offer one, because the native styles of some platforms ignore a custom palette.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem

APPEARANCES = ("system", "light", "dark")

ICONS = {
    "documents": "mdi6.file-document-multiple-outline",
    "data": "mdi6.table-edit",
    "train": "mdi6.school-outline",
    "chat": "mdi6.chat-outline",
    "models": "mdi6.cube-outline",
    "teach": "mdi6.rocket-launch-outline",
    "sample": "mdi6.play-circle-outline",
    "settings": "mdi6.cog-outline",
    "backup": "mdi6.archive-arrow-down-outline",
    "restore": "mdi6.backup-restore",
    "next": "mdi6.arrow-right-circle-outline",
    "add": "mdi6.plus",
    "send": "mdi6.send",
    "stop": "mdi6.stop-circle-outline",
}


# The sizes icons are drawn at (buttons and menus, the step list).
ICON_SIZES = (16, 22)


def icon(name: str) -> QIcon:
    """The icon for NAME (a key of ICONS) in the palette's text colour; empty if the icon
    font cannot load (the button keeps its words).

    Drawn once into pixmaps (cached by colour): qtawesome's own icons paint the font glyph
    again at every repaint. (They were suspected of the import's stall in session 16; the
    stall was a garbage collection and the GIL's hand-over, ui/runtime.py.)"""
    try:
        import qtawesome

        app = QGuiApplication.instance()
        palette = app.palette() if app is not None else QPalette()
        color = palette.color(QPalette.ColorRole.ButtonText)
        disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
        selected = palette.color(QPalette.ColorRole.HighlightedText)
        key = (name, color.name(), disabled.name(), selected.name())
        if key not in _drawn:
            drawn = qtawesome.icon(ICONS[name], color=color, color_disabled=disabled, color_selected=selected)
            ratio = app.devicePixelRatio() if app is not None else 1.0
            out = QIcon()
            for size in ICON_SIZES:
                for mode in (QIcon.Mode.Normal, QIcon.Mode.Disabled, QIcon.Mode.Selected):
                    out.addPixmap(drawn.pixmap(QSize(size, size), ratio, mode, QIcon.State.Off), mode)
            _drawn[key] = out
        return _drawn[key]
    except Exception:  # noqa: BLE001 - an icon is never worth a crash
        return QIcon()


_drawn: dict[tuple, QIcon] = {}

# Where a themed icon's name is kept: a property of a button or an action, a role of a
# list item; redraw_icons finds them there when the palette changes.
ICON_PROPERTY = "kwdeskIcon"
ICON_ROLE = Qt.ItemDataRole.UserRole + 40


def themed(target, name: str):
    """TARGET (a button, an action or a list item) with the icon NAME, drawn again in the
    new colours when the palette changes (a switch to dark while the app runs)."""
    if isinstance(target, QListWidgetItem):
        target.setData(ICON_ROLE, name)
    else:
        target.setProperty(ICON_PROPERTY, name)
    target.setIcon(icon(name))
    return target


def redraw_icons() -> int:
    """Every themed icon of every widget in the palette now in use; how many were drawn."""
    app = QApplication.instance()
    if app is None:
        return 0
    count = 0
    for widget in app.allWidgets():
        for target in (widget, *widget.actions()):
            name = target.property(ICON_PROPERTY)
            if name:
                target.setIcon(icon(name))
                count += 1
        if isinstance(widget, QListWidget):
            for row in range(widget.count()):
                item = widget.item(row)
                if item.data(ICON_ROLE):
                    item.setIcon(icon(item.data(ICON_ROLE)))
                    count += 1
    return count


def follow_palette_changes(app) -> None:
    """From now on, icons are drawn again when APP's palette changes, and the Appearance
    setting is applied again when the system's colour scheme changes (once per app)."""
    if app.findChild(PaletteFollower) is None:
        from kwdesk.core.app.settings import load_settings

        PaletteFollower(app, lambda: load_settings().appearance)


class PaletteFollower(QObject):
    """Draws the icons again when the application's palette changes, and applies the
    Appearance setting again when the system's colour scheme changes."""

    def __init__(self, app, appearance) -> None:
        super().__init__(app)
        self.setObjectName("kwdesk-palette-follower")
        self.appearance = appearance  # a callable: the setting now ("system", "light", "dark")
        app.installEventFilter(self)
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def eventFilter(self, watched, event) -> bool:
        if watched is QApplication.instance() and event.type() == QEvent.Type.ApplicationPaletteChange:
            QTimer.singleShot(0, redraw_icons)  # once the widgets have the new palette
        return False

    def _scheme_changed(self, _scheme) -> None:
        if self.appearance() == "system":
            apply_appearance(QApplication.instance(), "system")


# The style and palette the platform gave before any appearance was applied.
_platform: dict = {}


def _remember_platform(app) -> None:
    if not _platform:
        _platform["style"] = app.style().name()
        _platform["palette"] = QPalette(app.palette())


def system_is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    # Unknown (no platform theme): judge by the palette the platform gave.
    palette = _platform.get("palette") or app.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#2b2d30", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#26282b",
        QPalette.ColorRole.ToolTipBase: "#3c3f41", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8c8c8c", QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#393b40", QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff6b6b", QPalette.ColorRole.Link: "#6ea8fe",
        QPalette.ColorRole.Highlight: "#2f65ca", QPalette.ColorRole.HighlightedText: "#ffffff",
    }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply_appearance(app, appearance: str = "system") -> bool:
    """Light or dark as APPEARANCE asks ("system": as the system is); True when dark.
    Called again while the app runs (the Settings dialog, a system switch), it goes back to
    the platform's own style and palette where those fit."""
    _remember_platform(app)
    dark = appearance == "dark" or (appearance == "system" and system_is_dark())
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif system_is_dark():  # light asked on a dark system
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
    elif app.style().name() != _platform["style"] or app.palette() != _platform["palette"]:
        app.setStyle(_platform["style"])
        app.setPalette(_platform["palette"])
    return dark


def is_dark() -> bool:
    """Whether the palette in use is dark (for the few colours the app sets itself)."""
    app = QGuiApplication.instance()
    return app is not None and app.palette().color(QPalette.ColorRole.Window).lightness() < 128


# The few colours the app sets itself, each readable on a light and on a dark palette.
def error_color() -> str:
    return "#ff8a80" if is_dark() else "#b3261e"


def good_color() -> str:
    return "#81c995" if is_dark() else "#1b6e20"


def warning_color() -> str:
    return "#f6c26b" if is_dark() else "#8a5a00"


def accent_color() -> str:
    return "#6ea8fe" if is_dark() else "#2b6cb0"


def muted_color() -> str:
    return "#9aa0a6" if is_dark() else "#666666"


def marked_background() -> str:
    """Behind words marked in a passage (the answer's words in its source)."""
    return "#5c4d00" if is_dark() else "#fff3a0"
