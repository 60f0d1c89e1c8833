#!/usr/bin/env python3
"""Merge the key lines of both charon logs of one experiment, with times relative to t0
(the moment the experiment initiated), and summarise the final list-sas of each side."""
import re
import sys
from datetime import datetime
from pathlib import Path

KEY = re.compile(
    r"generating CREATE_CHILD_SA|parsed CREATE_CHILD_SA|generating IKE_AUTH response|"
    r"selected proposal|no acceptable proposal|NO_PROPOSAL_CHOSEN|NO_PROP|"
    r"configured proposals|received proposals|DH group|ignoring KE|"
    r"rekeying failed|closing expired|CHILD_SA .* established|"
    r"(updated|replaced|added) vici connection|found matching child config|vici rekey|"
    r"vici initiate|requested DH group|recreate after hard expire|"
    r"not establishing CHILD_SA|closing CHILD_SA|IKE_SA .* rekeyed|"
    r"INVALID_KE|received DELETE|sending DELETE|establishing CHILD_SA|"
    r"creating rekey job|rekeyed CHILD_SA|CHILD_SA rekeyed"
)
SKIP = re.compile(r"received proposals: ESP.*configured|^$")
TS = re.compile(r"^(\d\d:\d\d:\d\d\.\d\d\d) (\d\d)\[(\w+)\] (.*)$")


def parse_t(s):
    return datetime.strptime(s, "%H:%M:%S.%f")


def main():
    exp = Path(sys.argv[1])
    t0_file = exp / "t0"
    t0 = parse_t(t0_file.read_text().strip()) if t0_file.exists() else None
    rows = []
    for side in ("az", "dev"):
        log = exp / side / "charon.log"
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            m = TS.match(line)
            if not m or not KEY.search(m.group(4)):
                continue
            t = parse_t(m.group(1))
            if t0 is None:
                t0 = t
            rows.append((t, side, m.group(3), m.group(4)))
    rows.sort(key=lambda r: r[0])
    print(f"===== {exp.name}")
    for t, side, grp, msg in rows:
        rel = (t - t0).total_seconds()
        if len(msg) > 1200:
            msg = msg[:1197] + "..."
        print(f"{rel:+8.3f} {side:>3} [{grp}] {msg}")
    for side in ("az", "dev"):
        f = exp / side / "list-sas.txt"
        if not f.exists():
            continue
        text = f.read_text(errors="replace")
        children = re.findall(r"^\s+(\S+): #\d+, reqid \d+, (\w+), (.*)$", text, re.M)
        algs = re.findall(r"^\s+(\S+/\S+.*)$", text, re.M)
        states = ", ".join(f"{n} {st}" for n, st, _ in children) or "no CHILD_SA"
        ike = "IKE_SA ESTABLISHED" if "ESTABLISHED" in text else "no IKE_SA"
        print(f"   end {side:>3}: {ike}; {states}")
        for n, st, rest in children:
            print(f"             {n}: {rest.strip()}")


if __name__ == "__main__":
    main()
