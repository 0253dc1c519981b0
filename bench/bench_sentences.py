"""kwdesk's sentence splitter against pysbd on pysbd's English "golden rules" (48 cases of
abbreviations, initials, numbers, quotes, lists), in one run.

The rules are pysbd's test data and are not copied here: point --rules at
benchmarks/english_golden_rules.py of a checkout of https://github.com/nipunsadvilkar/pySBD.

    bash bench/baselines.sh
    .venv/bin/python bench/bench_sentences.py --rules PATH/english_golden_rules.py

Also reports both on kwdesk's own cases (the abbreviations of manuals and contracts), and
the time each takes for a 1,000-page import's worth of sentences.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kwdesk.core.text.sentences import split_sentences  # noqa: E402

BASELINE_VENV = Path(os.environ.get("KWDESK_BENCH_VENV", Path.home() / ".cache" / "kwdesk" / "bench-venv"))

# Sentences of the documents kwdesk is for, each case a paragraph and its sentences.
MANUAL_CASES = [
    ("This Marine Operations Manual (Rev. 4) applies to every berth. It was first issued in 2009.",
     ["This Marine Operations Manual (Rev. 4) applies to every berth.", "It was first issued in 2009."]),
    ("The Oil Jetty is 310 m. long. Its depth is 16.8 m.", ["The Oil Jetty is 310 m. long.", "Its depth is 16.8 m."]),
    ("See Sec. 2.3.1 and Fig. 4 for details. Inspections follow Ref. No. 720, e.g. a visual check.",
     ["See Sec. 2.3.1 and Fig. 4 for details.", "Inspections follow Ref. No. 720, e.g. a visual check."]),
    ("Dr. Ilse Tamberg signed it. Capt. J. Kralik approved the plan.",
     ["Dr. Ilse Tamberg signed it.", "Capt. J. Kralik approved the plan."]),
    ("The flow is approx. 52.2 m3/s, i.e. about 7 times the mean flow. It rose in May.",
     ["The flow is approx. 52.2 m3/s, i.e. about 7 times the mean flow.", "It rose in May."]),
    ("Pumps are listed in Annex B. Tab. 3 gives the fees.", ["Pumps are listed in Annex B.", "Tab. 3 gives the fees."]),
    ("2. Pilotage is compulsory for vessels longer than 80 m. The pilot boards at the buoy.",
     ["2. Pilotage is compulsory for vessels longer than 80 m.", "The pilot boards at the buoy."]),
    ("The St. Anne's yard revised it in 2018. Min. depth is 6 m. Max. draught is 5 m.",
     ["The St. Anne's yard revised it in 2018.", "Min. depth is 6 m.", "Max. draught is 5 m."]),
]

_PYSBD = r"""
import json, sys, time
import pysbd
cases = json.loads(sys.stdin.read())
seg = pysbd.Segmenter(language="en", clean=False)
start = time.perf_counter()
out = [[s.strip() for s in seg.segment(text)] for text in cases]
print(json.dumps({"out": out, "seconds": time.perf_counter() - start}))
"""


def pysbd_split(texts: list[str]) -> tuple[list[list[str]], float]:
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        sys.exit(f"no baseline environment at {BASELINE_VENV}: run bash bench/baselines.sh first")
    proc = subprocess.run([str(python), "-c", _PYSBD], input=json.dumps(texts), capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])
    data = json.loads(proc.stdout)
    return data["out"], data["seconds"]


def kwdesk_split(texts: list[str]) -> tuple[list[list[str]], float]:
    start = time.perf_counter()
    out = [split_sentences(text) for text in texts]
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=Path, required=True, help="pysbd's benchmarks/english_golden_rules.py")
    args = parser.parse_args()
    golden = runpy.run_path(str(args.rules))["GOLDEN_EN_RULES"]
    for label, cases in (("pysbd golden rules (English)", golden), ("manuals and contracts (kwdesk)", MANUAL_CASES)):
        texts = [text for text, _ in cases]
        print(f"\n{label}: {len(cases)} cases")
        results = {"kwdesk": kwdesk_split(texts), "pysbd": pysbd_split(texts)}
        for tool, (out, _) in results.items():
            right = [got == expected for got, (_, expected) in zip(out, cases)]
            print(f"  {tool:<7} {sum(right):3d}/{len(cases)} right ({100 * sum(right) / len(cases):.0f}%)")
            if tool == "kwdesk":
                for ok, got, (text, expected) in zip(right, out, cases):
                    if not ok:
                        print(f"      wrong: {text[:90]!r} -> {len(got)} sentences, expected {len(expected)}")
    # Speed: a 1,000-page import has about 30,000 sentences in 7,000 paragraphs.
    paragraphs = [text for text, _ in golden] * (7000 // len(golden))
    k, p = kwdesk_split(paragraphs)[1], pysbd_split(paragraphs)[1]
    print(f"\nspeed, {len(paragraphs)} paragraphs: kwdesk {k:.2f} s, pysbd {p:.2f} s ({p / k:.0f}x kwdesk's time)")


if __name__ == "__main__":
    main()
