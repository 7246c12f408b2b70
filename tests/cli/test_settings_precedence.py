"""Settings: a flag beats STACKCTL_* which beats the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config import Settings, load_settings


def test_defaults():
    settings = load_settings({}, environ={})
    assert settings == Settings()
    assert settings.db == Path("storage/stackctl.db")
    assert settings.manifests == Path("manifests")


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
