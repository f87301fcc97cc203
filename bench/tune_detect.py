"""NAB scores of a detector on a labelled corpus, and a small grid search over its options.

Run, from the repository root:

    .venv/bin/python bench/tune_detect.py                          # the default detector
    .venv/bin/python bench/tune_detect.py --detector counts --files
    .venv/bin/python bench/tune_detect.py --options '{"report_nlp": 2.5}'
    .venv/bin/python bench/tune_detect.py --grid '{"suppress_buckets": [100, 200, 400]}'
    .venv/bin/python bench/tune_detect.py --data OTHER_CORPUS_DIR

The corpus is NAB's layout: ``DATA/data/<category>/<file>.csv`` (timestamp,value)
and ``DATA/windows.json``; by default ``bench/data/nab-dev``, the half of NAB that
detectors are tuned on (the other half is kept for evaluation). Scores are NAB's
three profiles (``signalfire.detect.nab``, one threshold for the whole corpus,
optimised per profile), plus the standard profile on ``realTweets`` alone.

``--options`` and every ``--grid`` combination are keyword options of the
detector's class. The last line printed is one JSON object (the best combination
when searching).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signalfire.cli.series_io import load_windows, read_columns
from signalfire.detect.detector import score_series
from signalfire.detect.nab import nab_scores
from signalfire.detect.registry import DETECTORS

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "nab-dev"
TWEETS = "realTweets/"

Corpus = dict[str, tuple[list[float], list[float]]]


def load_corpus(root: Path) -> tuple[Corpus, dict[str, list[tuple[float, float]]]]:
    windows = load_windows(root / "windows.json")
    corpus: Corpus = {}
    for name in sorted(windows):
        columns = read_columns(root / "data" / name)
        corpus[name] = (columns.times_s.tolist(), columns.numbers("value").tolist())
    return corpus, windows


def run(detector: str, options: dict[str, object], corpus: Corpus,
        windows: dict[str, list[tuple[float, float]]], *, files: bool = False) -> dict[str, object]:
    factory = DETECTORS[detector]
    results: dict[str, tuple[list[float], list[float]]] = {}
    began = time.perf_counter()
    points = 0
    for name, (times_s, values) in corpus.items():
        scores, _ = score_series(factory(**options), times_s, values)  # type: ignore[call-arg]
        results[name] = (times_s, scores)
        points += len(times_s)
    seconds = time.perf_counter() - began
    scored = nab_scores(results, windows)
    tweets = {name: r for name, r in results.items() if name.startswith(TWEETS)}
    tweet_score = nab_scores(tweets, windows)["standard"].score if tweets else float("nan")
    standard = scored["standard"]
    if files:
        for name, f in standard.files.items():
            hits = " ".join(f"{w.score:+.2f}" for w in f.windows)
            print(f"  {name:<58} tp {f.tp} fn {f.fn} fp {f.fp:>3}  raw {f.raw_score:+6.2f}  [{hits}]")
    return {
        "detector": detector,
        "options": options,
        **{profile: round(r.score, 2) for profile, r in scored.items()},
        "realTweets_standard": round(tweet_score, 2),
        "threshold_standard": standard.threshold,
        "tp": standard.tp, "fp": standard.fp, "fn": standard.fn,
        "points_per_s": round(points / max(seconds, 1e-9)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="corpus directory")
    parser.add_argument("--detector", default="auto", choices=sorted(DETECTORS))
    parser.add_argument("--options", default="{}", help="JSON keyword options of the detector")
    parser.add_argument("--grid", default=None,
                        help='JSON {"option": [values, ...]}: score every combination')
    parser.add_argument("--files", action="store_true", help="per-file breakdown (standard)")
    args = parser.parse_args()
    if not (args.data / "windows.json").is_file():
        parser.error(f"{args.data} has no windows.json (copy NAB's half there, or pass --data)")
    corpus, windows = load_corpus(args.data)
    base = json.loads(args.options)
    combos: list[dict[str, object]] = [base]
    if args.grid:
        grid = json.loads(args.grid)
        keys = sorted(grid)
        combos = [{**base, **dict(zip(keys, values, strict=True))}
                  for values in itertools.product(*(grid[k] for k in keys))]
    best: dict[str, object] | None = None
    for options in combos:
        result = run(args.detector, options, corpus, windows, files=args.files)
        print(f"standard {result['standard']:6.2f}  low_FP {result['reward_low_FP_rate']:6.2f}  "
              f"low_FN {result['reward_low_FN_rate']:6.2f}  realTweets {result['realTweets_standard']:6.2f}"
              f"  tp {result['tp']} fn {result['fn']} fp {result['fp']}  {json.dumps(options)}",
              flush=True)
        if best is None or float(result["standard"]) > float(best["standard"]):  # type: ignore[arg-type]
            best = result
    print(json.dumps(best))


if __name__ == "__main__":
    main()
