"""Damaged PDFs made from real ones: bit flips, truncation, spliced and broken objects.

Deterministic: the same seed gives the same files, so a file that breaks the importer can
be made again from its name (``fuzz-<seed>-<index>-<mutation>.pdf``).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b.*?endobj", re.S)
_NUMBER_AFTER = re.compile(rb"(/Length|/Count|/Size|/Prev|startxref|/First|/N)(\s+)(\d+)")


def _bit_flips(data: bytearray, rng: random.Random, donors) -> str:
    for _ in range(rng.randint(1, 64)):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    return "bitflip"


def _truncate(data: bytearray, rng: random.Random, donors) -> str:
    del data[rng.randint(len(data) // 20, len(data) - 1):]
    return "truncate"


def _splice(data: bytearray, rng: random.Random, donors) -> str:
    """An object of another PDF replaces one of this PDF's (same number, other content)."""
    donor = rng.choice(donors)
    theirs = list(_OBJECT.finditer(donor))
    ours = list(_OBJECT.finditer(bytes(data)))
    if not theirs or not ours:
        return _bit_flips(data, rng, donors)
    target, source = rng.choice(ours), rng.choice(theirs)
    body = source.group(0)
    # Keep our object's number so the cross-reference table points at the foreign body.
    head = re.match(rb"\d+\s+\d+\s+obj", target.group(0)).group(0)
    body = head + body[re.match(rb"\d+\s+\d+\s+obj", body).end():]
    data[target.start():target.end()] = body
    return "splice"


def _garbage_run(data: bytearray, rng: random.Random, donors) -> str:
    start = rng.randrange(len(data))
    length = rng.randint(1, 4096)
    filler = rng.choice([bytes([rng.randrange(256)]) * length, rng.randbytes(length), b"0 0 obj << >> endobj " * 8])
    data[start:start + len(filler)] = filler
    return "garbage"


def _lying_numbers(data: bytearray, rng: random.Random, donors) -> str:
    """Stream lengths, page counts and cross-reference offsets that lie."""
    matches = list(_NUMBER_AFTER.finditer(bytes(data)))
    if not matches:
        return _bit_flips(data, rng, donors)
    for m in reversed(rng.sample(matches, min(len(matches), rng.randint(1, 6)))):
        value = rng.choice([b"0", b"1", b"999999999", b"-1", str(int(m.group(3)) * rng.randint(2, 100)).encode()])
        data[m.start(3):m.end(3)] = value
    return "numbers"


def _duplicate_objects(data: bytearray, rng: random.Random, donors) -> str:
    """Objects repeated many times: deep or cyclic structures for the parser."""
    ours = list(_OBJECT.finditer(bytes(data)))
    if not ours:
        return _truncate(data, rng, donors)
    chosen = rng.choice(ours)
    at = rng.choice(ours).end()
    data[at:at] = b"\n" + (chosen.group(0) + b"\n") * rng.randint(2, 200)
    return "repeat"


MUTATIONS = [_bit_flips, _truncate, _splice, _garbage_run, _lying_numbers, _duplicate_objects]


def make_fuzzed_pdfs(sources: list[Path], folder: Path, count: int, seed: int = 1) -> list[Path]:
    """COUNT damaged PDFs in FOLDER, each from one of SOURCES by one to three mutations."""
    rng = random.Random(seed)
    originals = [p.read_bytes() for p in sources]
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(count):
        data = bytearray(originals[index % len(originals)])
        names = [rng.choice(MUTATIONS)(data, rng, originals) for _ in range(rng.choice([1, 1, 2, 3]))]
        if not data:
            data = bytearray(b"%PDF-1.4\n")
        path = folder / f"fuzz-{seed}-{index:04d}-{'+'.join(names)}.pdf"
        path.write_bytes(bytes(data))
        made.append(path)
    return made
