#!/usr/bin/env python3
"""Draws tools/compare.sh's JSON lines as SVG charts with gnuplot and writes the "Charts" section
of docs/BENCHMARKS.md (between its <!-- charts:begin --> and <!-- charts:end --> markers).

Usage: render.py COMPARE.jsonl CHART_DIR BENCHMARKS.md
Each figure is the median over rounds of one client's measurements of one workload.
"""
import collections
import json
import os
import statistics
import subprocess
import sys

CLIENTS = ["fibredis", "redis-benchmark", "redis-py+gevent", "ioredis"]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def median_by(rows, key_fn, value):
    groups = collections.defaultdict(list)
    for r in rows:
        if value in r:
            groups[key_fn(r)].append(float(r[value]))
    return {k: statistics.median(v) for k, v in groups.items()}


def gnuplot(script, data_files):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    for f in data_files:
        os.unlink(f)


def bars(path, title, ylabel, table, columns, rows_order):
    """Clustered bars: one cluster per row (a workload), one bar per column (a client)."""
    dat = path + ".dat"
    with open(dat, "w") as f:
        f.write("x " + " ".join('"%s"' % c for c in columns) + "\n")
        for row in rows_order:
            f.write('"%s" ' % row + " ".join(
                ("%g" % table[(row, c)]) if (row, c) in table else "NaN" for c in columns) + "\n")
    plots = ", ".join("'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2, i + 2)
                      for i in range(len(columns)))
    gnuplot("""set terminal svg size 760,420 dynamic enhanced font 'sans,12' background rgb 'white'
set output '%s'
set title '%s'
set ylabel '%s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left
set grid ytics
set yrange [0:*]
plot %s
""" % (path, title, ylabel, plots), [dat])


def lines(path, title, ylabel, series, logx=True):
    """One line per client: series[client] = [(x, y), ...]."""
    plots, files = [], []
    for client, points in series.items():
        dat = "%s.%s.dat" % (path, client.replace("+", "_"))
        with open(dat, "w") as f:
            for x, y in sorted(points):
                f.write("%g %g\n" % (x, y))
        files.append(dat)
        plots.append("'%s' using 1:2 with linespoints lw 2 pt 7 title '%s'" % (dat, client))
    gnuplot("""set terminal svg size 760,420 dynamic enhanced font 'sans,12' background rgb 'white'
set output '%s'
set title '%s'
set xlabel 'N calls blocked at once'
set ylabel '%s'
%s
set key top left
set grid
set yrange [0:*]
plot %s
""" % (path, title, ylabel, "set logscale x" if logx else "", ", ".join(plots)), files)


def main():
    src, chart_dir, md = sys.argv[1:4]
    rows = load(src)
    os.makedirs(chart_dir, exist_ok=True)
    rounds = len({r.get("round") for r in rows})
    made = []

    ops = median_by(rows, lambda r: (r["workload"], r["client"]), "ops_per_sec")
    workloads = [w for w in ("sequential", "concurrent", "pipeline") if any(k[0] == w for k in ops)]
    clients = [c for c in CLIENTS if any(k[1] == c for k in ops if k[0] in workloads)]
    if workloads:
        bars(os.path.join(chart_dir, "ops_per_sec.svg"), "Throughput on a 3-primary cluster (median of %d rounds)" % rounds,
             "operations per second", ops, clients, workloads)
        made.append(("ops_per_sec.svg", "Operations per second per workload and client."))

    p50 = median_by([r for r in rows if r["workload"] == "pipeline"], lambda r: ("p50", r["client"]), "p50_us")
    p99 = median_by([r for r in rows if r["workload"] == "pipeline"], lambda r: ("p99", r["client"]), "p99_us")
    lat = {**p50, **p99}
    for r in rows:  # fibredis-bench --workload latency, when the build has it: its p50/p99 fields
        if r["workload"] == "latency":
            for field, label in (("p50_us", "p50"), ("p99_us", "p99")):
                if field in r:
                    lat.setdefault((label, "fibredis"), float(r[field]))
    lat_clients = [c for c in CLIENTS if any(k[1] == c for k in lat)]
    if lat:
        bars(os.path.join(chart_dir, "pipeline_latency.svg"), "Pipeline of 16 SETs: latency of one batch",
             "microseconds", lat, lat_clients, ["p50", "p99"])
        made.append(("pipeline_latency.svg", "Latency of one 16-command pipeline, p50 and p99."))

    blocking = [r for r in rows if r["workload"] == "blocking"]
    if blocking:
        n_of = lambda r: float(r.get("calls", r.get("clients", r.get("fibers", r.get("ops", 0)))))  # noqa: E731
        for r in blocking:  # fibredis-bench's blocking workload reports wall_ms (start to the last return)
            if "seconds" not in r and "wall_ms" in r:
                r["seconds"] = float(r["wall_ms"]) / 1000.0
        wall = median_by(blocking, lambda r: (r["client"], n_of(r)), "seconds")
        series = collections.defaultdict(list)
        for (client, n), secs in wall.items():
            series[client].append((n, secs))
        lines(os.path.join(chart_dir, "blocking_wall.svg"), "N BRPOPs parked at once, then released: wall time",
              "seconds", dict(series))
        made.append(("blocking_wall.svg", "Wall time to park N BRPOP calls and release them."))
        mem = collections.defaultdict(list)
        for r in blocking:
            per = r.get("rss_per_call_kib")
            if per is None and "max_rss_kib" in r and n_of(r):
                per = float(r["max_rss_kib"]) / n_of(r)
            if per is not None:
                mem[(r["client"], n_of(r))].append(float(per))
        series = collections.defaultdict(list)
        for (client, n), v in mem.items():
            series[client].append((n, statistics.median(v)))
        lines(os.path.join(chart_dir, "blocking_memory.svg"), "Client memory per blocked call",
              "KiB per call", dict(series))
        made.append(("blocking_memory.svg", "Client memory (RSS) per parked call against N."))

    table = ["| workload | " + " | ".join(clients) + " |", "| --- |" + " --- |" * len(clients)]
    for w in workloads:
        table.append("| %s | " % w + " | ".join(
            ("{:,.0f}".format(ops[(w, c)]) if (w, c) in ops else "–") for c in clients) + " |")
    section = ["<!-- charts:begin (written by tools/compare/render.py from docs/charts/compare.jsonl) -->",
               "## Charts", "",
               "Drawn by `tools/compare.sh` (which ends by running `tools/compare/render.py`) from its JSON lines in",
               "[docs/charts/compare.jsonl](charts/compare.jsonl): one 3-primary cluster from `tools/local-cluster`,",
               "%d rounds, each workload run once per client per round with the clients in turn; each figure is" % rounds,
               "the median over rounds. The peers are the packaged ones: redis-py + gevent (Debian's",
               "`python3-redis`, `python3-gevent`) and ioredis (npm). The machine that ran it shows in the figures",
               "(the committed ones: a shared 2-vCPU VM with other builds running): rerun it on yours. Median ops/s:", ""] + table + [""]
    for name, caption in made:
        section += ["![%s](charts/%s)" % (caption, name), ""]
    section.append("<!-- charts:end -->")
    text = open(md).read() if os.path.exists(md) else "# Benchmarks\n"
    begin, end = text.find("<!-- charts:begin"), text.find("<!-- charts:end -->")
    block = "\n".join(section)
    if begin >= 0 and end > begin:
        text = text[:begin] + block + text[end + len("<!-- charts:end -->"):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(md, "w") as f:
        f.write(text)
    print("render.py: %s; the Charts section of %s" % (", ".join(n for n, _ in made), md))


if __name__ == "__main__":
    main()
