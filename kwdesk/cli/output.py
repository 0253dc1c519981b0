"""How the CLI speaks: JSON on stdout for scripts (--json), progress and messages on stderr
for people, and the exit codes (0 done, 1 nothing could be done, 2 usage error)."""

from __future__ import annotations

import json
import sys

EXIT_OK = 0
EXIT_NOTHING_DONE = 1
EXIT_USAGE = 2


def print_json(value) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    print()


def listed(args, items: list, empty: str) -> bool:
    """The common head of a listing command: ITEMS as JSON with --json, or EMPTY (to stderr)
    when there are none. True when that said everything, so the caller prints no rows."""
    if args.json:
        print_json([item.to_dict() for item in items])
        return True
    if not items:
        print(empty, file=sys.stderr)
        return True
    return False


class Bar:
    """A tqdm progress bar on stderr, shown only to a person at a terminal."""

    def __init__(self, enabled: bool, unit: str) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def __call__(self, progress) -> None:
        if self.bar is None:
            return
        self.bar.total = progress.total
        self.bar.n = progress.done
        self.bar.set_description_str(progress.message[:60], refresh=False)
        self.bar.refresh()

    def say(self, line: str) -> None:
        """A line for the person at the terminal, above the bar (or on stderr without one)."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
