"""The PrestaShop module's PHP side: ``php -l`` on every file, then its PHPUnit suite against the
real omnistock of this session and the local MariaDB (see prestashop/omnistock/tests)."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.prestashop.conftest import MODULE, need


def test_every_php_file_lints() -> None:
    files = sorted(MODULE.rglob("*.php"))
    assert len(files) > 30
    for path in files:
        done = subprocess.run(
            [need("php"), "-l", str(path)], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_phpunit_suite_passes(
    omnistock_info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    done = subprocess.run(
        [need("phpunit"), "-c", "phpunit.xml"],
        cwd=MODULE,
        env={"OMNISTOCK_TEST_INFO": json.dumps(omnistock_info), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = [line for line in done.stdout.splitlines() if re.match(r"^(OK|Tests:) ", line)]
    with capsys.disabled():
        print(f"\nPHPUnit (prestashop/omnistock): {' '.join(summary) or 'no summary'}")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    match = re.search(r"^OK \((\d+) tests, (\d+) assertions\)", done.stdout, re.M)
    assert match, done.stdout[-3000:]
    assert int(match.group(1)) >= 40
