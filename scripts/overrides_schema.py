"""Write relabel/overrides.schema.json from the catalogue (tests/test_overrides.py checks it is current).

    python scripts/overrides_schema.py
"""

import json
from pathlib import Path

from relabel.overrides.validation import build_schema

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "relabel" / "overrides.schema.json"
    target.write_text(json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}")
