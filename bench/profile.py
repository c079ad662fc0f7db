"""Profile zhsearch's indexing or query path with py-spy and print where the time goes.

    .venv/bin/pip install py-spy   # profiling only, not a project dependency
    .venv/bin/python bench/profile.py index bench/work/slice-10000.jsonl /tmp/prof-index
    .venv/bin/python bench/profile.py query /tmp/prof-index

Runs `bench/zh.py` under `py-spy record --format raw` and sums the samples per function:
self time (the frame on top) and inclusive time (anywhere on the stack).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
_LINE = re.compile(r" \((?P<file>[^)]*?):\d+\)$")


def summarize(raw: Path, top: int = 25, by_line: bool = False) -> str:
    """Self and inclusive shares of the top functions in a py-spy raw (collapsed) file."""
    self_n: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f if by_line else _LINE.sub(r" (\g<file>)", f) for f in stack.split(";")]
        self_n[frames[-1]] += n
        for frame in set(frames):
            incl[frame] += n
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "self:"]
    out += [f"{n / total:6.1%}  {f}" for f, n in self_n.most_common(top)]
    out += ["", "inclusive:"]
    out += [f"{n / total:6.1%}  {f}" for f, n in incl.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Record one zh.py step under py-spy, then print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["index", "query"])
    parser.add_argument("args", nargs="+", help="index: SLICE INDEX_DIR; query: INDEX_DIR")
    parser.add_argument("--rate", type=int, default=100, help="Samples per second.")
    parser.add_argument("--out", type=Path, default=BENCH / "work" / "profile.raw")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    step = [sys.executable, str(BENCH / "zh.py"), args.what, *args.args]
    if args.what == "query":
        step += [str(BENCH / "queries.txt")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy, "record", "--format", "raw", "--rate", str(args.rate), "-o", str(args.out)]
    subprocess.run([*cmd, "--", *step], check=True, stdout=subprocess.DEVNULL)
    print(summarize(args.out, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
