"""The GPS issue's three figures in one command: ingestion through ``fsm serve``, arrival
detection with the day report, and the map's frame. Each part is its own script (run it
alone for its options) and prints its figure against its own reference, measured in the
same run:

  gps_ingest.py   fixes/s stored from 50 senders on SQLite vs the same server's empty
                  route; none lost (sent vs stored); p95 latency    (goal >= 1,000 fixes/s)
  gps_detect.py   detection + day report for 25 technicians x a day of 5-second fixes vs
                  reading those fixes alone                          (goal <= 1 s)
  gps_map.py      a frame at 120x40 with 25 technicians, 500 objects and a day's track vs
                  an empty canvas                                    (goal <= 50 ms)

    python bench/gps.py                  # all three (ingestion for 60 s)
    python bench/gps.py --seconds 15     # a shorter ingestion
    python bench/gps.py --only map       # one part: ingest, detect or map
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("ingest", "detect", "map")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of ingestion")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    args = parser.parse_args()
    extra = {"ingest": ["--seconds", str(args.seconds)], "detect": [], "map": []}
    failed = []
    for part in args.only or PARTS:
        print(f"== gps_{part}.py", flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / f"gps_{part}.py"), *extra[part]], cwd=HERE, check=False
        )
        if done.returncode:
            failed.append(part)
        print(flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
