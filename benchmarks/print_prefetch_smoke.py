#!/usr/bin/env python3
"""Smoke test of print_prefetch_benchmark (ctest: print_prefetch_benchmark_smoke).

Runs the benchmark twice with tiny parameters and the same seed, and checks
what its output must satisfy whatever the machine's speed: it exits 0 with
no failed check; per mode, blanks used = cards printed + spoiled, central's
ledger says the same, and every slot printed, spoiled or idled; prefetch
prints at least as many cards as online-only; and the second run's counts
equal the first's (the schedule and the misprints come from the seed).
Asserts nothing about time.

Usage: print_prefetch_smoke.py BENCHMARK_BINARY
"""
import json
import subprocess
import sys

ARGS = ["--seed", "3", "--slots", "40", "--blanks", "16", "--mean-outage-slots", "6", "--misprint-rate", "0.1"]
SLOTS = 40
COUNTS = ("cards_printed", "blanks_used", "spoiled", "idle_slots", "sync_passes", "blanks_left", "central")


def run(binary):
    done = subprocess.run([binary, *ARGS], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"exit code {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def check(out):
    problems = list(out["failed_checks"])
    modes = out["modes"]
    for name, mode in modes.items():
        if mode["blanks_used"] != mode["cards_printed"] + mode["spoiled"]:
            problems.append(f"{name}: blanks_used {mode['blanks_used']} != printed + spoiled")
        central = mode["central"]
        if (central["printed"], central["spoiled"]) != (mode["cards_printed"], mode["spoiled"]):
            problems.append(f"{name}: central {central} disagrees with the station")
        idle = sum(mode["idle_slots"].values())
        if mode["cards_printed"] + mode["spoiled"] + idle != SLOTS:
            problems.append(f"{name}: printed + spoiled + idle slots != {SLOTS}")
        if abs(mode["printer_idle_fraction"] - idle / SLOTS) > 1e-9:
            problems.append(f"{name}: printer_idle_fraction is not idle slots / slots")
    if modes["prefetch"]["cards_printed"] < modes["online_only"]["cards_printed"]:
        problems.append("prefetch printed fewer cards than online-only")
    if modes["online_only"]["idle_slots"]["link_down"] != out["link"]["down_slots"]:
        problems.append("online-only did not idle exactly the slots the link was down")
    if modes["prefetch"]["idle_slots"]["link_down"] != 0:
        problems.append("prefetch idled for the link")
    return problems


def counts(out):
    return {name: {key: mode[key] for key in COUNTS} for name, mode in out["modes"].items()}


def main():
    first = run(sys.argv[1])
    second = run(sys.argv[1])
    problems = check(first) + check(second)
    if counts(first) != counts(second) or first["link"] != second["link"]:
        problems.append(f"the same seed gave other counts:\n{counts(first)}\n{counts(second)}")
    if problems:
        print(json.dumps(first, indent=2))
        sys.exit("\n".join(problems))
    print("ok:", json.dumps(counts(first)))


if __name__ == "__main__":
    main()
