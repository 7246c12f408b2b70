"""controller.sources.secrets.sops: the format from the name, encryption from the content (a table
of
real SOPS outputs and look-alikes), decryption in memory, and one-line reasons for failures."""

from __future__ import annotations

import json
from pathlib import Path

import pyrage
import pytest

from controller.sources.secrets import SopsError, configure, decrypt, format_of, is_encrypted
from controller.sources.secrets.sops import KEY_FILE_VARIABLE

PLAIN = {
    "dotenv": b"DB_PASSWORD=hunter2-plain\nMODE=prod\n",
    "yaml": b"password: hunter2-plain\nlist: [1, 2]\n",
    "json": b'{"password": "hunter2-plain"}\n',
    "ini": b"[db]\npassword = hunter2-plain\n",
    "binary": b"\x00\x01hunter2-plain\xff",
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("app.env", "dotenv"),
        ("a/b/values.yaml", "yaml"),
        ("values.YML", "yaml"),
        ("c.json", "json"),
        ("c.ini", "ini"),
        ("cert.pem", "binary"),
        ("token", "binary"),
        (".env", "binary"),  # no suffix for sops either; env files are dotenv by their role
    ],
)
def test_the_format_comes_from_the_name_as_sops_decides_it(name, fmt):
    assert format_of(name) == fmt


@pytest.mark.parametrize("fmt", sorted(PLAIN))
def test_sops_output_of_every_format_is_recognized_and_decrypts_to_the_plaintext(
    fmt, tmp_path, encrypt
):
    path = tmp_path / f"file.{fmt}"
    path.write_bytes(PLAIN[fmt])
    data = encrypt(path, fmt).read_bytes()
    assert b"hunter2-plain" not in data
    assert is_encrypted(data, fmt)
    assert not is_encrypted(PLAIN[fmt], fmt)
    plain = decrypt(data, fmt=fmt)
    assert b"hunter2-plain" in plain
    if fmt in ("dotenv", "binary"):
        assert plain == PLAIN[fmt]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"sops: {version: 3}\n", "yaml"),  # no mac
        (b"config:\n  sops:\n    mac: x\n", "yaml"),  # not at the top level
        (b"- sops\n- mac\n", "yaml"),
        (b"sops_mac=x\n", "dotenv"),  # no version line
        (b"X=sops_mac=1 sops_version=2\n", "dotenv"),  # not at the start of a line
        (b'{"data": "x", "sops": {"mac": "m"}, "more": 1}', "binary"),  # not sops's form
        (b'{"sops": "mac"}', "json"),
        (b"sops mac [[[ not yaml", "yaml"),
        (b"[sops]\nversion = 3\n", "ini"),
    ],
)
def test_look_alikes_are_plaintext(data, fmt):
    assert not is_encrypted(data, fmt)


def test_the_binary_form_is_sops_json_with_data_and_sops(tmp_path, encrypt):
    path = tmp_path / "token"
    path.write_bytes(b"t0ken")
    document = json.loads(encrypt(path, "binary").read_bytes())
    assert set(document) == {"data", "sops"} and "mac" in document["sops"]


def test_without_any_key_the_reason_says_to_set_the_key_file(tmp_path, encrypt, no_age_key):
    path = tmp_path / "a.env"
    path.write_text("A=hunter2-plain\n")
    data = encrypt(path, "dotenv").read_bytes()
    no_age_key()
    with pytest.raises(SopsError) as caught:
        decrypt(data, fmt="dotenv")
    assert caught.value.reason == (
        f"no age key: set {KEY_FILE_VARIABLE} (stackctl run --sops-age-key-file)"
    )


def test_an_unreadable_key_file_and_a_wrong_key_say_so(tmp_path, encrypt, age, monkeypatch):
    path = tmp_path / "a.env"
    path.write_text("A=hunter2-plain\n")
    data = encrypt(path, "dotenv").read_bytes()
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(tmp_path / "missing.key"))
    with pytest.raises(SopsError) as caught:
        decrypt(data, fmt="dotenv")
    assert caught.value.reason == (
        f"the age key file {tmp_path / 'missing.key'} cannot be read ({KEY_FILE_VARIABLE})"
    )
    other = Path(tmp_path / "other.key")
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(other))
    with pytest.raises(SopsError) as caught:
        decrypt(data, fmt="dotenv")
    assert caught.value.reason == (
        f"the age key ({other}) is not one of the file's recipients ({age.recipient})"
    )
    assert "hunter2" not in caught.value.reason


def test_configure_names_the_key_file_for_the_whole_process(tmp_path, encrypt, age, no_age_key):
    path = tmp_path / "a.env"
    path.write_text("A=hunter2-plain\n")
    data = encrypt(path, "dotenv").read_bytes()
    no_age_key()
    with pytest.raises(SopsError):
        decrypt(data, fmt="dotenv")
    configure(age_key_file=age.key_file)
    try:
        assert decrypt(data, fmt="dotenv") == b"A=hunter2-plain\n"
    finally:
        configure(age_key_file=None)
    with pytest.raises(SopsError):
        decrypt(data, fmt="dotenv")


def test_a_modified_file_fails_its_mac(tmp_path, encrypt):
    path = tmp_path / "a.yaml"
    path.write_text("a: hunter2-plain\nb: other\n")
    text = encrypt(path, "yaml").read_text()
    # Swap the two encrypted values: each still decrypts, but the MAC over them does not match.
    lines = text.splitlines()
    a = next(i for i, line in enumerate(lines) if line.startswith("a: "))
    b = next(i for i, line in enumerate(lines) if line.startswith("b: "))
    lines[a], lines[b] = "a: " + lines[b][3:], "b: " + lines[a][3:]
    with pytest.raises(SopsError) as caught:
        decrypt("\n".join(lines).encode(), fmt="yaml")
    assert "hunter2" not in caught.value.reason
