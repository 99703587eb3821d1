"""Configuration: defaults, validation errors naming key and line, init, home resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from printharvest.config import HOME_ENV, Config, Home, default_home
from printharvest.exceptions import ConfigError
from printharvest.rules.lab import Rules


def test_missing_config_uses_defaults(home: Path) -> None:
    opened = Home.open(home)
    assert opened.config == Config()
    assert opened.inbox == home.resolve() / "inbox"


def test_wrong_type_names_key_and_line(home: Path) -> None:
    (home / "printharvest.yaml").write_text("inbox: in\n\nsettle_seconds: soon\n")
    with pytest.raises(ConfigError) as caught:
        Home.open(home)
    message = str(caught.value)
    assert "printharvest.yaml:3" in message
    assert "settle_seconds" in message


def test_unknown_key_is_an_error(home: Path) -> None:
    (home / "printharvest.yaml").write_text("archive_mode: move\ninbox_dir: x\n")
    with pytest.raises(ConfigError, match=r"printharvest.yaml:2: inbox_dir"):
        Home.open(home)


def test_broken_yaml_names_line(home: Path) -> None:
    (home / "printharvest.yaml").write_text("inbox: [unclosed\nstore: x\n")
    with pytest.raises(ConfigError, match=r"printharvest.yaml:\d+: not valid YAML"):
        Home.open(home)


def test_home_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "lab"))
    assert default_home() == tmp_path / "lab"


def test_bad_rule_names_file_rule_and_line(home: Path) -> None:
    rules = home / "rules"
    rules.mkdir()
    (rules / "case_keys.yaml").write_text(
        "rules:\n  - name: ok\n    pattern: '(?P<key>A\\d+)'\n"
        "  - name: broken\n    pattern: 'B\\d+'\n")
    with pytest.raises(ConfigError) as caught:
        Rules.load(rules)
    message = str(caught.value)
    assert "case_keys.yaml:5" in message and "rules.1.pattern" in message and "key" in message


def test_cli_config_error_exits_2(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (home / "printharvest.yaml").write_text("settle_seconds: -5\n")
    result = run_cli("--home", str(home), "cases", "list")
    assert result.code == 2
    assert "settle_seconds" in result.err and "Traceback" not in result.err


def test_init_writes_commented_config_and_rules(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--home", str(home), "init")
    assert result.code == 0
    text = (home / "printharvest.yaml").read_text()
    assert text.startswith("#") and "settle_seconds" in text
    assert (home / "rules" / "case_keys.yaml").is_file()
    assert (home / "rules" / "registry" / "dictionary.yaml").is_file()
    assert Home.open(home).config == Config()
    # A second init leaves the lab's edits alone.
    (home / "printharvest.yaml").write_text("settle_seconds: 5\n")
    run_cli("--home", str(home), "init")
    assert Home.open(home).config.settle_seconds == 5


def test_a_typo_key_is_named_before_the_key_it_hides(home: Path) -> None:
    rules = home / "rules"
    rules.mkdir()
    (rules / "case_keys.yaml").write_text("rules:\n  - name: job\n    patern: '(?P<key>A)'\n")
    with pytest.raises(ConfigError, match=r"case_keys.yaml:3: rules.0.patern .*[Ee]xtra"):
        Rules.load(rules)


def test_unclosed_bracket_on_the_last_line_names_that_line(home: Path) -> None:
    (home / "printharvest.yaml").write_text("inbox: in\nextra_inboxes: [a, b\n")
    with pytest.raises(ConfigError, match=r"printharvest.yaml:2: not valid YAML"):
        Home.open(home)


def test_doctor_exits_2_on_a_broken_rules_file(home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (home / "rules").mkdir()
    (home / "rules" / "case_keys.yaml").write_text("rules:\n  - {name: x, pattern: '(?P<key>['}\n")
    result = run_cli("--home", str(home), "doctor")
    assert result.code == 2 and "FAIL  rules" in result.out
