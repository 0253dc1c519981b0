"""The pairs review table with 100,000 rows: time to open, time to filter, memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_pairs_table.py [--rows 100000]

Targets (issue 6): opens in under 0.5 s, a filter applies in under 0.2 s, memory grows by
under 100 MB. The baseline beside it is the naive table: every row read into a
QStandardItemModel, what a table of widgets costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QTableView

    from kwdesk.core.store.workspace import Workspace, write_transaction
    from kwdesk.ui.pairs_model import PairsTableModel

    app = QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        db = ws.connect()
        statuses = ("new", "accepted", "edited", "rejected")
        with write_transaction(db):
            db["pairs"].insert_all(
                ({"question": f"What is fact {i} about valve {i % 97}?", "answer": f"Fact {i}: valve {i % 97} holds {i % 13} bar.",
                  "status": statuses[i % 4]} for i in range(args.rows)),
                batch_size=5_000,
            )
        views = []

        def shown(model) -> float:
            # A view of its own for each model (PySide6 6.12 crashes on setModel(None)).
            view = QTableView()
            view.resize(1000, 600)
            view.show()
            views.append(view)
            start = time.perf_counter()
            view.setModel(model)
            app.processEvents()
            view.viewport().repaint()
            return time.perf_counter() - start

        before = rss_mb()
        start = time.perf_counter()
        model = PairsTableModel(db)
        model.set_filters()
        opened = time.perf_counter() - start + shown(model)
        grown = rss_mb() - before
        start = time.perf_counter()
        model.set_filters(status="accepted")
        views[-1].viewport().repaint()
        filter_status = time.perf_counter() - start
        start = time.perf_counter()
        model.set_filters(text="valve 42")
        views[-1].viewport().repaint()
        filter_text = time.perf_counter() - start
        print(f"kwdesk lazy model, {args.rows} rows: open {opened * 1000:.0f} ms, filter by status {filter_status * 1000:.0f} ms, "
              f"text search {filter_text * 1000:.0f} ms ({model.rowCount()} rows), memory +{grown:.0f} MB")

        before = rss_mb()
        start = time.perf_counter()
        rows = db.execute("SELECT id, status, question, answer FROM pairs ORDER BY id").fetchall()
        naive = QStandardItemModel(len(rows), 4)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                naive.setItem(r, c, QStandardItem(str(value)))
        naive_open = time.perf_counter() - start + shown(naive)
        print(f"naive (every row into a QStandardItemModel): open {naive_open * 1000:.0f} ms, memory +{rss_mb() - before:.0f} MB")
        print(f"ratio (open time, naive / kwdesk): {naive_open / opened:.0f}x")
        db.close()


if __name__ == "__main__":
    main()
