"""Settings: a flag beats STACKCTL_* which beats the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config.settings import Settings, default_db, load_settings


def test_defaults():
    settings = load_settings({}, environ={"HOME": "/home/ann"}, euid=1000)
    assert settings == Settings(db=Path("/home/ann/.local/state/stackctl/stackctl.db"))
    assert settings.manifests is None  # none given: `stackctl run` says so
    assert settings.files_dir == Path("/home/ann/.local/state/stackctl/files")


def test_the_default_database_is_one_place_per_user_never_the_current_directory():
    home = {"HOME": "/home/ann"}
    assert default_db(euid=0, environ=home) == Path("/var/lib/stackctl/stackctl.db")
    assert default_db(euid=1000, environ=home) == Path(
        "/home/ann/.local/state/stackctl/stackctl.db"
    )
    assert default_db(euid=1000, environ={**home, "XDG_STATE_HOME": "/srv/state"}) == Path(
        "/srv/state/stackctl/stackctl.db"
    )
    # The XDG specification: a relative XDG_STATE_HOME is invalid and ignored.
    assert default_db(euid=1000, environ={**home, "XDG_STATE_HOME": "state"}) == Path(
        "/home/ann/.local/state/stackctl/stackctl.db"
    )
    assert load_settings({}, environ=home, euid=0).db == Path("/var/lib/stackctl/stackctl.db")


def test_environment_beats_default():
    settings = load_settings({}, environ={"STACKCTL_DB": "/x.db", "STACKCTL_WORKERS": "3"})
    assert (settings.db, settings.workers) == (Path("/x.db"), 3)


def test_flag_beats_environment_and_none_means_not_given():
    settings = load_settings(
        {"db": Path("flag.db"), "manifests": None}, environ={"STACKCTL_DB": "/x.db",
                                                              "STACKCTL_MANIFESTS": "/m"}
    )
    assert (settings.db, settings.manifests) == (Path("flag.db"), Path("/m"))


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ValueError, match="STACKCTL_WORKERS='many'"):
        load_settings({}, environ={"STACKCTL_WORKERS": "many"})


def test_unknown_flag_is_a_programming_error():
    with pytest.raises(TypeError, match="unknown settings"):
        load_settings({"colour": "blue"}, environ={})
