#!/usr/bin/python3
"""docs/kernels.md from the kernel matrix's runs.

Usage: /usr/bin/python3 scripts/kernels-table.py OUT_DIR... > docs/kernels.md

Each OUT_DIR is one kernel's folder from scripts/kernels.sh (`run` for a guest, `host` for
this machine's kernel): results.tsv and runs/NAME/report.json. For every run, what the
kernel did: the verdict, the timer events the model matched (their times from the run's
own capture), and how the connection ended. Rows where the kernels disagree (another
event count, or an event more than 50 ms apart) come first, under "Where the kernels
differ". Standard library only.
"""
import csv
import json
import os
import sys

DIFF_S = 0.050  # an event this far apart between kernels is a difference

# What a difference means, where it has been read in the kernel (docs/kernel-timing.md
# section 0 cites the commits). Keyed by case: the run's name without its family.
WHY = {
    "syn-silent": "6.1 has no tcp_syn_linear_timeouts (ccce324dabfe, 6.5): its SYNs double from "
                  "the first, 1 and 3 s, and it gives up after tcp_syn_retries = 2 at 7.3 s; 6.12 and "
                  "6.18 send 4 linear retransmissions first. `tapfault model syn --kernel 6.1` predicts it.",
    "zero-window-user-timeout": "not the kernel: whether a 4th probe fits before TCP_USER_TIMEOUT "
                                "runs out turns on a few ms of RTT, and each kernel has shown 3 and 4 "
                                "in different runs (tcp_clamp_probe0_to_user_timeout(), docs/kernel-timing.md "
                                "section 4.2).",
    "zero-window-unanswered": "6.18 caps the probe backoff at 1 s (compress: rto_max by tcp_rto_max_ms, "
                              "1280c26228bd, 6.15) and gives up after 3.4 s; 6.1 and 6.12 have no way to "
                              "lower the ceiling, so the probes double to 6.4 s and the give-up comes at 13.6 s.",
    "zero-window-forever": "the same probes; the guests' probe base is a few ms longer (the peer "
                           "answers in milliseconds under TCG), and each doubling carries it.",
    "icmp-rto-revert": "the same chain; the guests' RTO is a few ms longer, as for silent-peer.",
    "silent-peer": "the same chain; the guests' RTO is a few ms longer (the peer answers in "
                   "milliseconds under TCG), and each doubling carries it.",
}


def case_of(run_name):
    for suffix in ("-ipv4", "-ipv6"):
        if run_name.endswith(suffix):
            return run_name[: -len(suffix)]
    return run_name


def version_key(label):
    parts = []
    for p in label.replace("host-", "").replace("-", ".").replace("+", ".").split("."):
        parts.append(int(p) if p.isdigit() else 0)
    return parts[:2]


def load(out_dir):
    rows = {}
    with open(os.path.join(out_dir, "results.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows[r["scenario"]] = r
    release = os.path.basename(os.path.normpath(out_dir)).replace("host-", "")
    runs = {}
    for name, r in rows.items():
        report_path = os.path.join(out_dir, "runs", name, "report.json")
        report = {}
        if os.path.exists(report_path):
            with open(report_path) as f:
                report = json.load(f)
            release = report.get("kernel", {}).get("release", release)
        runs[name] = (r, report)
    return release, runs


def events(report):
    out = []
    for e in report.get("model", {}).get("events", []):
        if e.get("observed_s") is not None:
            out.append((e["event"], float(e["observed_s"])))
    return out


def ending(report):
    g = report.get("model", {}).get("give_up") or {}
    err = report.get("client", {}).get("final_error") or g.get("observed_error")
    if err == "none":
        err = ""
    t = g.get("observed_s")
    if err and t is not None:
        return "%s at %.3f s%s" % (err, t, " + RST" if g.get("observed_rst") else "")
    return err or ""


def cell(result, report):
    verdict = result["verdict"]
    if verdict == "n/a":
        return "n/a"
    ev = events(report)
    text = verdict
    if ev:
        groups = []  # [kind, [times]] in order: "TLP 0.218; RTO 0.445, 0.655"
        for name, t in ev[:8]:
            kind = name.split("#")[0]
            if not groups or groups[-1][0] != kind:
                groups.append([kind, []])
            groups[-1][1].append("%.3f" % t)
        text += ": " + "; ".join("%s %s" % (k, ", ".join(ts)) for k, ts in groups)
        if len(ev) > 8:
            text += " ... (%d events)" % len(ev)
    end = ending(report)
    if end:
        text += "; " + end
    return text


def differs(cells):
    seen = [events(rep) for res, rep in cells if res and res["verdict"] != "n/a" and rep]
    if len(seen) < 2:
        return False
    first = seen[0]
    for other in seen[1:]:
        if len(other) != len(first):
            return True
        for (_, a), (_, b) in zip(first, other):
            if abs(a - b) > DIFF_S:
                return True
    return False


def main(dirs):
    kernels = sorted((load(d) for d in dirs), key=lambda k: version_key(k[0]))
    names = sorted({n for _, runs in kernels for n in runs})
    header = "| run | " + " | ".join(k[0] for k in kernels) + " |"
    rule = "|---|" + "---|" * len(kernels)
    diff_header = header + " why |"
    diff_rule = rule + "---|"
    lines = []
    diff_lines = []
    for n in names:
        cells = [runs.get(n, (None, {})) for _, runs in kernels]
        row = "| `%s` | " % n + " | ".join(cell(r, rep) if r else "not run" for r, rep in cells) + " |"
        lines.append(row)
        if differs(cells):
            diff_lines.append(row + " %s |" % WHY.get(case_of(n), "not yet explained"))
    print("# What each kernel did\n")
    print("Generated by `scripts/kernels-table.py` from the runs of `scripts/kernels.sh` (Debian's")
    print("kernels under qemu, TCG) and `scripts/kernels.sh host` (this machine's). Each cell: the")
    print("verdict, the times in seconds of the timer events the model matched, from the run's own")
    print("capture (t = 0 is the model's origin), and how the connection ended. Do not edit by hand:")
    print("run the matrix and regenerate.\n")
    print("Under TCG the guest's peer answers in tens of milliseconds rather than microseconds, so")
    print("a timing difference seen only in a guest needs a second look before it is called a")
    print("kernel difference; a difference in the count of events, or of seconds, is the kernel's.\n")
    print("## Where the kernels differ\n")
    if diff_lines:
        print(diff_header)
        print(diff_rule)
        print("\n".join(diff_lines))
    else:
        print("No run differed by more than %d ms or by an event." % int(DIFF_S * 1000))
    print("\n## Every run\n")
    print(header)
    print(rule)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
