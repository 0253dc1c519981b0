"""Rephrasing checks on the labelled set: how many unsupported statements each revision of
data/checks.supported_sentences keeps, and how many supported ones it keeps, side by side.

tests/labelled/rephrasing_sentences.jsonl: 33 raw rephrasings by the bundled teacher (3
styles of 11 passages of the laid-out manual PDF, the Word manual and the handbook), each
sentence marked supported or not by hand with the reason.

    .venv/bin/python bench/bench_rephrasing_checks.py [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled" / "rephrasing_sentences.jsonl"


def measure(source: Path) -> dict:
    """Run the labelled set through SOURCE's supported_sentences in a fresh interpreter."""
    code = f"""
import json, sys
sys.path.insert(0, {str(source)!r})
from kwdesk.core.data.checks import normalized, supported_sentences
from kwdesk.core.text.sentences import split_sentences
kept_bad = kept_good = good = bad = 0
bad_kept = []
for line in open({str(LABELLED)!r}):
    r = json.loads(line)
    text = "\\n".join(s["sentence"] for s in r["sentences"])
    kept = {{normalized(k) for line in supported_sentences(text, r["source"]).splitlines() for k in split_sentences(line)}}
    seen = set()
    for s in r["sentences"]:
        key = normalized(s["sentence"])
        if key in seen:
            continue  # a sentence said twice is judged once
        seen.add(key)
        hit = key in kept
        if s["supported"]:
            good += 1; kept_good += hit
        else:
            bad += 1; kept_bad += hit
            if hit: bad_kept.append(s["sentence"])
print(json.dumps({{"good": good, "bad": bad, "kept_good": kept_good, "kept_bad": kept_bad, "bad_kept": bad_kept}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=source)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="0d02ab7", help="a git revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=REPO, check=True,
                       capture_output=True)
        try:
            sides = {args.baseline: measure(base), "this checkout": measure(REPO)}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False, capture_output=True)
    print(f"{'':<16} {'unsupported kept':>18} {'supported kept':>16}")
    for name, m in sides.items():
        print(f"{name:<16} {m['kept_bad']:>8} of {m['bad']:<7} {m['kept_good']:>6} of {m['good']:<7}")
    for sentence in sides["this checkout"]["bad_kept"]:
        print("  kept, unsupported:", sentence)


if __name__ == "__main__":
    main()
