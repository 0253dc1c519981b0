"""The review table model over SQLite, on 100,000 pairs: lazy rows, filters, edits saved."""

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from kwdesk.core.store.pairs import filtered_pair_ids
from kwdesk.core.store.workspace import write_transaction
from kwdesk.ui.pairs_model import PairsTableModel

N = 100_000


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    from kwdesk.core.store.workspace import Workspace

    ws = Workspace.open(tmp_path_factory.mktemp("big") / "ws")
    db = ws.connect()
    statuses = ("new", "accepted", "edited", "rejected")
    with write_transaction(db):
        db["pairs"].insert_all(
            (
                {"question": f"What is fact {i} about valve {i % 97}?", "answer": f"Fact {i}: valve {i % 97} holds {i % 13} bar.",
                 "status": statuses[i % 4], "strategy": "qa" if i % 3 else "entities"}
                for i in range(N)
            ),
            batch_size=5_000,
        )
    yield db
    db.close()


def test_a_hundred_thousand_rows_load_lazily(qtbot, big_db):
    model = PairsTableModel(big_db)
    model.set_filters()
    assert model.rowCount() == N
    assert len(model._cache) == 0  # nothing read until a row is shown
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: len(model._cache) > 0)
    assert len(model._cache) <= 1_000  # only the rows near the visible ones
    row = 54_321
    assert model.index(row, 2).data() == f"What is fact {model.pair_id(row) - 1} about valve {(model.pair_id(row) - 1) % 97}?"


def test_filters_by_status_strategy_and_text(big_db):
    model = PairsTableModel(big_db)
    model.set_filters(status="accepted")
    assert model.rowCount() == N // 4
    assert {model.index(r, 1).data() for r in range(0, 2000, 97)} == {"accepted"}
    model.set_filters(strategy="entities", text="valve 42")
    ids = filtered_pair_ids(big_db, strategy="entities", text="valve 42")
    assert model.rowCount() == len(ids) > 0
    # Words are matched as prefixes, in the question or the answer.
    for r in range(model.rowCount()):
        text = model.index(r, 2).data() + " " + model.index(r, 3).data()
        assert "valve" in text and re.search(r"\b42", text), text


def test_an_edit_is_saved_at_once_and_marks_the_pair_edited(big_db):
    model = PairsTableModel(big_db)
    model.set_filters(status="new")
    index = model.index(3, 3)
    pair_id = model.pair_id(3)
    assert model.setData(index, "Fact: valve 3 holds 7 bar.", Qt.ItemDataRole.EditRole)
    assert big_db.execute("SELECT answer, status FROM pairs WHERE id = ?", [pair_id]).fetchone() == ("Fact: valve 3 holds 7 bar.", "edited")
    assert model.index(3, 3).data() == "Fact: valve 3 holds 7 bar."
    assert not model.setData(index, "   ", Qt.ItemDataRole.EditRole)  # an empty answer is refused
    assert not model.flags(model.index(3, 1)) & Qt.ItemFlag.ItemIsEditable
