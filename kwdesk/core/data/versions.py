"""Documents that change: what a new version of a document changed, and what that means for
the pairs made from the old one.

Chunks are compared by the hash of their text (chunks.text_sha256), so a passage that did
not change is found again wherever it moved. From the comparison:

    unchanged   passages in both versions: their pairs still hold and move to the new version
    removed     passages only in the old version: their pairs are to retire
    added       passages only in the new version: no pairs yet, to generate

Retiring marks the pairs rejected (with the reason in their meta), so nothing is deleted and
a retired pair can be taken back. The next adapter is trained either from scratch or from
the previous run's adapter (TrainConfig.init_adapter_run): see TRAINING_CHOICE.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.store.documents import (
    document_chunks,
    document_version,
    newer_versions,
)
from kwdesk.core.store.pairs import (
    chunks_with_live_pairs,
    live_pairs_on,
    move_pairs_to_new_chunks,
    retire_pairs,
)
from kwdesk.core.store.workspace import write_transaction

TRAINING_CHOICE = {
    "previous": "Go on from the previous adapter: fewer steps; what it learned from passages that "
                "were removed can linger until the new data overrides it.",
    "scratch": "Train from scratch: takes the full time; the adapter knows only the current data.",
}


class VersionError(KwdeskError):
    pass


@dataclass
class ChunkChange:
    chunk_id: int
    seq: int
    page_start: int
    text: str


@dataclass
class DocumentChanges:
    document_id: int  # the newer version
    previous_id: int
    name: str
    version: int
    unchanged: list[tuple[int, int]] = field(default_factory=list)  # (old chunk id, new chunk id)
    removed: list[ChunkChange] = field(default_factory=list)
    added: list[ChunkChange] = field(default_factory=list)
    pairs_to_retire: list[int] = field(default_factory=list)
    pairs_to_carry: list[int] = field(default_factory=list)  # on unchanged passages, still on the old version
    chunks_to_generate: list[int] = field(default_factory=list)  # added passages with no pairs

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added)


def document_changes(db, document_id: int) -> DocumentChanges:
    """What DOCUMENT_ID changed against the version before it."""
    row = document_version(db, document_id)
    if row is None:
        raise VersionError(f"There is no imported document {document_id}.")
    if row[3] is None:
        raise VersionError(f"{row[1]} has only one version; import the changed file again to make a new one.")
    changes = DocumentChanges(row[0], row[3], row[1], row[2])
    old = document_chunks(db, changes.previous_id)
    new = document_chunks(db, document_id)
    new_by_hash: dict[str, list] = {}
    for chunk in new:
        new_by_hash.setdefault(chunk[4], []).append(chunk)
    matched_new = set()
    for chunk in old:
        twins = [c for c in new_by_hash.get(chunk[4], []) if c[0] not in matched_new]
        if twins:
            matched_new.add(twins[0][0])
            changes.unchanged.append((chunk[0], twins[0][0]))
        else:
            changes.removed.append(ChunkChange(chunk[0], chunk[1], chunk[2], chunk[3]))
    changes.added = [ChunkChange(c[0], c[1], c[2], c[3]) for c in new if c[0] not in matched_new]

    removed_ids = [c.chunk_id for c in changes.removed]
    changes.pairs_to_retire = live_pairs_on(db, removed_ids)
    changes.pairs_to_carry = live_pairs_on(db, [old_id for old_id, _ in changes.unchanged])
    with_pairs = chunks_with_live_pairs(db, [c.chunk_id for c in changes.added])
    changes.chunks_to_generate = [c.chunk_id for c in changes.added if c.chunk_id not in with_pairs]
    return changes


def changed_documents(db) -> list[DocumentChanges]:
    """Every current document with an earlier version whose pairs still wait to be sorted
    (pairs to retire or carry over, or new passages to generate for)."""
    out = []
    for doc_id in newer_versions(db):
        changes = document_changes(db, doc_id)
        if changes.pairs_to_retire or changes.pairs_to_carry or changes.chunks_to_generate:
            out.append(changes)
    return out


def apply_changes(db, changes: DocumentChanges, *, retire: bool = True, carry: bool = True) -> dict:
    """Move the pairs of unchanged passages to the new version, and retire the pairs of
    removed passages (rejected, with the reason kept). Returns the counts."""
    with write_transaction(db):
        carried = move_pairs_to_new_chunks(db, changes.pairs_to_carry, dict(changes.unchanged), changes.document_id) \
            if carry else 0
        note = f"its passage is not in version {changes.version} of {changes.name}"
        retired = retire_pairs(db, changes.pairs_to_retire, note) if retire else 0
    return {"carried": carried, "retired": retired}
