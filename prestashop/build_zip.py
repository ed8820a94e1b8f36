"""Build the installable PrestaShop module zip: ``./dev prestashop-zip [OUT_DIR]``.

The zip holds one top folder, ``omnistock/`` (what PrestaShop's module upload expects), with the
module's files and none of its tests. Entries are sorted and dated 1980-01-01, so the same
sources give the same bytes.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

MODULE = Path(__file__).resolve().parent / "omnistock"
EXCLUDED_DIRS = {"tests"}
EXCLUDED_FILES = {"phpunit.xml", ".phpunit.result.cache"}


def module_version() -> str:
    match = re.search(r"\$this->version = '([^']+)'", (MODULE / "omnistock.php").read_text())
    if not match:
        raise SystemExit("no version in omnistock.php")
    return match.group(1)


def files() -> list[Path]:
    out = []
    for path in sorted(MODULE.rglob("*")):
        rel = path.relative_to(MODULE)
        if path.is_dir() or rel.parts[0] in EXCLUDED_DIRS or path.name in EXCLUDED_FILES:
            continue
        if path.name.startswith("."):
            continue
        out.append(path)
    return out


def build(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"omnistock-{module_version()}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files():
            info = zipfile.ZipInfo(f"omnistock/{path.relative_to(MODULE).as_posix()}")
            info.date_time = (1980, 1, 1, 0, 0, 0)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return target


def main(argv: list[str]) -> int:
    target = build(Path(argv[0]) if argv else Path("dist"))
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
