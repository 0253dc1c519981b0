"""Serve the personal models to other programs from the window: the same server as
`kwdesk serve` (core/serve), started and stopped with one button, its address shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from kwdesk.core.serve import DEFAULT_PORT
from kwdesk.core.serve.server import LocalServer, ServeError, ServeSettings
from kwdesk.core.store.workspace import Workspace
from kwdesk.ui.sizing import WrappedLabel


class ServeBar(QWidget):
    """A Serve / Stop button and the address other programs use."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.server: LocalServer | None = None
        self.button = QPushButton("Serve to other programs")
        self.button.setToolTip("An OpenAI-compatible address on this computer for Open WebUI, editor plugins and "
                               "scripts: every personal model, adapters on one shared base (kwdesk serve)")
        self.button.clicked.connect(self.toggle)
        self.label = WrappedLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.label, 1)

    def toggle(self) -> None:
        if self.server is None:
            self.start()
        else:
            self.stop()

    def start(self, port: int = DEFAULT_PORT) -> None:
        # The models load on the first request, so starting takes a fraction of a second.
        try:
            try:
                server = LocalServer(self.workspace, ServeSettings(port=port)).start()
            except ServeError:
                server = LocalServer(self.workspace, ServeSettings(port=0)).start()  # the usual port is taken
        except ServeError as exc:
            self.label.setText(f"Could not serve: {exc}")
            return
        self.server = server
        count = len(server.api.models())
        self.button.setText("Stop serving")
        self.label.setText(f"Serving {count} model{'s' if count != 1 else ''} at {server.url} (this computer only; "
                           "any OpenAI-compatible program can use it, no key needed)")

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()
        self.button.setText("Serve to other programs")
        self.label.setText("")

    def shutdown(self) -> None:
        self.stop()
