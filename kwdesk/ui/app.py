"""Starts the desktop app."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def run_app(workspace_dir: str | None = None, argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QMessageBox

    from kwdesk.core.app.settings import load_settings
    from kwdesk.core.base.logs import setup_logging
    from kwdesk.core.base.network import apply_network_policy
    from kwdesk.core.models.bundled import (
        BUNDLED_NAME,
        ModelNotFound,
        bundled_model_path,
    )
    from kwdesk.core.store.workspace import Workspace, WorkspaceError
    from kwdesk.ui.main_window import MainWindow
    from kwdesk.ui.runtime import freeze_long_lived

    setup_logging()
    apply_network_policy(load_settings().allow_downloads)  # the CLI did this already when it started the app
    app = make_app(argv)
    try:
        workspace = Workspace.open(workspace_dir)
    except WorkspaceError as exc:
        QMessageBox.critical(None, "kwdesk", str(exc))
        return 1
    try:
        model_name = BUNDLED_NAME if bundled_model_path() else ""
    except ModelNotFound as exc:
        log.warning("%s", exc)
        model_name = "none (the bundled model is missing)"
    window = MainWindow(workspace, model_name)
    install_excepthook(window)
    window.show()
    freeze_long_lived(collect=True)
    log.info("kwdesk started on %s", workspace.root)
    return app.exec()


def make_app(argv: list[str] | None = None):
    """The QApplication with kwdesk's names, icon and appearance (light, dark or the system's)."""
    from PySide6.QtWidgets import QApplication

    from kwdesk.core.app.settings import load_settings
    from kwdesk.ui.runtime import keep_the_window_responsive
    from kwdesk.ui.theme import apply_appearance

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    keep_the_window_responsive()
    app.setApplicationName("kwdesk")
    app.setOrganizationName("kwdesk")
    app.setDesktopFileName("app.kwdesk.Kwdesk")  # Wayland and docks match the window to packaging/'s entry
    app.setWindowIcon(app_icon())
    apply_appearance(app, load_settings().appearance)
    return app


def app_icon():
    """kwdesk's icon at every size in resources/icons (made by packaging/make_icons.py)."""
    from importlib import resources

    from PySide6.QtGui import QIcon

    icon = QIcon()
    folder = resources.files("kwdesk.resources").joinpath("icons")
    for entry in folder.iterdir():
        if entry.name.startswith("kwdesk-") and entry.name.endswith(".png"):
            icon.addFile(str(entry))
    return icon


def install_excepthook(window) -> None:
    """An error in a slot is logged and shown as a message; the app goes on (nothing is lost:
    every edit is saved when it is made)."""
    import traceback

    from PySide6.QtWidgets import QMessageBox

    def hook(kind, value, trace) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, trace)))
        if issubclass(kind, KeyboardInterrupt):
            return
        QMessageBox.warning(window, "kwdesk", f"Something went wrong: {value}\n\nThe details are in the log. Your work is saved.")

    sys.excepthook = hook

