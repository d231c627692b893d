"""Recompute a draw offline: `python -m reviewapp.pool.verify input.json SEED` prints the hash and the result."""

from __future__ import annotations

import sys
from pathlib import Path

from reviewapp.pool import rules


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("用法：python -m reviewapp.pool.verify 候选名单.json 随机种子", file=sys.stderr)
        return 2
    text = Path(argv[0]).read_text(encoding="utf-8")
    print(f"SHA-256: {rules.sha256_hex(text)}")
    result = rules.draw(rules.DrawInput.from_canonical(text), argv[1])
    if not result.ok:
        print("\n".join(result.problems))
        return 1
    for pd in result.panels:
        print(f"panel {pd.panel_id}: mains {list(pd.mains)} backups {list(pd.backups)}")
    print(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
