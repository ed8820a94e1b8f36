"""The README documents every setting and every CLI command."""

from __future__ import annotations

from pathlib import Path

from service.cli import build_parser
from service.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _env_names(name: str, field) -> list[str]:  # type: ignore[no-untyped-def]
    alias = field.validation_alias
    if alias is not None:
        return [str(choice) for choice in alias.choices]
    return [f"OMNISTOCK_{name.upper()}"]


def test_every_setting_is_documented() -> None:
    missing = []
    for name, field in Settings.model_fields.items():
        names = _env_names(name, field)
        if not any(f"`{env}`" in README for env in names):
            missing.append(names[0])
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = list(sub.choices)  # type: ignore[union-attr]
    assert [c for c in commands if f"`{c}" not in README] == []


def test_quick_start_has_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["./dev demo", "./dev test"]
