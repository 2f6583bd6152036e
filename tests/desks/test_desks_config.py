"""A desks file: read once at start; a bad one stops the program naming file, desk and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_settings
from tests.desks.support import BILLING, BILLING_TEAM, SURGERY, SURGERY_TEAM, desks_file


def test_the_desks_file_adds_desks_after_the_main_one(tmp_path: Path) -> None:
    settings = load_settings(
        var_dir=tmp_path, consult_address="consult@example.org", desks_file=desks_file(tmp_path)
    )
    desks = settings.desks
    assert [d.key for d in desks] == ["main", "billing", "surgery"]
    assert desks.get("billing").display_name == "Billing Consult Desk"
    assert desks.get("surgery").folder == "Surgery"
    assert desks.get("gone").key == "main"  # a desk removed from the file: the main one answers
    assert desks.addresses == {"consult@example.org", BILLING, SURGERY}
    # Mail in the main folder goes to the desk written to (a folder desk's too).
    assert desks.by_recipient(["consult@example.org", BILLING.upper()]).key == "billing"
    assert desks.by_recipient([SURGERY]).key == "surgery"
    assert desks.by_recipient([]).key == "main"
    # A team keeps its desk; the main desk has none, so everyone works it.
    assert desks.open_to(BILLING_TEAM) == {"main", "billing"}
    assert desks.open_to(SURGERY_TEAM) == {"main", "surgery"}
    assert desks.open_to("someone@example.com") == {"main"}


def test_without_a_file_there_is_one_desk(tmp_path: Path) -> None:
    settings = load_settings(var_dir=tmp_path, display_name="Coding Help")
    assert len(settings.desks) == 1
    assert settings.desks.main.display_name == "Coding Help"
    assert settings.desks.open_to("anyone@example.com") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[desks.billing\naddress = 1", "not valid TOML"),
        ('[desk.billing]\naddress = "b@example.org"', "unknown section 'desk'"),
        ('[desks.Billing]\naddress = "b@example.org"', "[desks.Billing]: the key must be"),
        ('[desks.main]\naddress = "b@example.org"', "[desks.main]: the key must be"),
        ('[desks.billing]\naddress = "nobody"', "[desks.billing]: address must be"),
        ('[desks.billing]\naddress = "b@example.org"', "[desks.billing]: display_name must"),
        (
            '[desks.billing]\naddress = "b@example.org"\ndisplay_name = "A <b>"',
            "display_name must be a name on one line",
        ),
        (
            '[desks.billing]\naddress = "b@example.org"\ndisplay_name = "B"\nteam = "ana"',
            "[desks.billing]: team must be a list",
        ),
        (
            '[desks.billing]\naddress = "b@example.org"\ndisplay_name = "B"\ncolour = "red"',
            "[desks.billing]: unknown field 'colour'",
        ),
        (
            '[desks.billing]\naddress = "consult@example.org"\ndisplay_name = "B"',
            "[desks.billing]: address is also desk 'main'",
        ),
        (
            '[desks.a]\naddress = "a@example.org"\ndisplay_name = "A"\nfolder = "X"\n'
            '[desks.b]\naddress = "b@example.org"\ndisplay_name = "B"\nfolder = "X"',
            "[desks.b]: folder is also desk 'a'",
        ),
        (
            '[desks.billing]\naddress = "b@example.org"\ndisplay_name = "B"\nfolder = "Processed"',
            "folder 'Processed' is already the main inbox, processed or sent folder",
        ),
    ],
)
def test_a_bad_desks_file_stops_the_start_saying_where(
    tmp_path: Path, text: str, says: str
) -> None:
    path = desks_file(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(var_dir=tmp_path, consult_address="consult@example.org", desks_file=path)
    message = str(error.value)
    assert message.startswith("configuration error: CONSULTANT_DESKS_FILE: ")
    assert str(path) in message and says in message


def test_a_missing_desks_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"CONSULTANT_DESKS_FILE: .*nowhere.toml: cannot be read"):
        load_settings(var_dir=tmp_path, desks_file=missing)
