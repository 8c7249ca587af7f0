"""Window medians of a MemorySoak case from an outside watcher's samples.

usage: python3 window-medians.py CASE [DIR]
  DIR/CASE-rss-5s.txt : lines "<unix seconds> <RSS kB>" (ps -o rss= every 5 s while the soak ran)
  DIR/CASE-soak.csv   : the soak's --out CSV (window ends, seconds since the case started)
Prints per window: micro-batches, the soak's peak (MB), the median of the outside samples (MB), the soak's
end-of-window reading (MB), seconds; then the growth of the last window's median against the second window's.
"""
import csv
import statistics
import sys

case = sys.argv[1]
d = sys.argv[2] if len(sys.argv) > 2 else "."
samples = [(int(a), int(b) * 1024) for a, b in
           (l.split() for l in open(f"{d}/{case}-rss-5s.txt") if len(l.split()) == 2)]
windows = list(csv.DictReader(open(f"{d}/{case}-soak.csv")))
end = samples[-1][0]
total = float(windows[-1]["seconds"])
start = end - total - 2  # the case's clock starts after the model is built; the JVM exits ~2 s after the last window
prev = 0.0
medians = []
for w in windows:
    s = float(w["seconds"])
    seg = [b for t, b in samples if start + prev <= t < start + s]
    medians.append(statistics.median(seg) if seg else float("nan"))
    print(w["micro_batches"], round(int(w["peak_rss_bytes"]) / 1e6), round(medians[-1] / 1e6),
          round(int(w["rss_bytes"]) / 1e6), round(s))
    prev = s
print("growth (median last window vs window 2): %+.1f%%" % (100 * (medians[-1] - medians[1]) / medians[1]))
print("largest outside sample (MB):", round(max(b for _, b in samples) / 1e6))
