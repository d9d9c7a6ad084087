"""Recording names: the gateway convention, odd names, and safe ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.viewer.names import parse, parse_time, valid_id

SSH = (
    "ssh~20260313T112035.8319~demo-pam-fg~internet_facing_servers~opa-gateway~fabio.grasso~"
    "-1-69b3f302-1537841959aeb6570b15eb85.cast"
)


def test_parses_ssh_name_with_team() -> None:
    r = parse(SSH, size=10)
    assert r.parsed and r.protocol == "ssh" and r.kind == "cast"
    assert (r.team, r.project, r.server, r.user) == (
        "demo-pam-fg",
        "internet_facing_servers",
        "opa-gateway",
        "fabio.grasso",
    )
    assert r.started == datetime(2026, 3, 13, 11, 20, 35, 831900, tzinfo=UTC)
    assert r.suffix.startswith("-1-69b3f302")


@pytest.mark.parametrize("ext", [".mkv", ".mp4", ".webm", ".asa-2.mkv"])
def test_parses_rdp_video_extensions(ext: str) -> None:
    r = parse(f"rdp~20260101T000000.1~t~p~win-01~u~abc{ext}")
    assert r.parsed and r.protocol == "rdp" and r.kind == "video" and r.server == "win-01"
    assert r.part == (2 if ext.startswith(".asa") else 0)


def test_suffix_may_contain_tilde() -> None:
    assert parse("ssh~20260101T000000~t~p~s~u~a~b.cast").suffix == "a~b"


def test_keys_under_folders_parse_by_file_name() -> None:
    r = parse(f"prod/2026/{SSH}")
    assert r.parsed and r.id == f"prod/2026/{SSH}" and r.name == SSH


@pytest.mark.parametrize(
    "name",
    [
        "random.cast",
        "ssh~notatime~t~p~s~u~x.cast",
        "ssh~20261301T000000~t~p~s~u~x.cast",  # month 13
        "ftp~20260101T000000~t~p~s~u~x.cast",
        "ssh~20260101T000000~~p~s~u~x.cast",  # empty team
        "ssh~20260101T000000~t~p~s.cast",  # too few fields
    ],
)
def test_malformed_names_are_kept_with_what_is_known(name: str) -> None:
    r = parse(name, size=5, mtime=86400.0)
    assert not r.parsed
    assert r.protocol == "ssh" and r.kind == "cast" and r.size == 5
    assert r.started == datetime(1970, 1, 2, tzinfo=UTC)
    assert r.team == r.user == ""


def test_unparsed_video_is_rdp() -> None:
    assert parse("desktop capture.mkv").protocol == "rdp"


def test_time_without_fraction() -> None:
    assert parse_time("20260313T112035") == datetime(2026, 3, 13, 11, 20, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    "rid",
    [
        "../etc/passwd.cast",
        "..%2Fsecret.cast",
        "/etc/passwd.cast",
        "a/../../b.cast",
        "a//b.cast",
        "./a.cast",
        "a\\..\\b.cast",
        "a.cast\x00.txt",
        "notes.txt",
        "",
        "x" * 2000 + ".cast",
        "\u00e9" * 600 + ".cast",  # 1,200 bytes of UTF-8
        "a/.hidden.cast",
        ".a.cast.part",
        "line\nbreak.cast",
        "tab\there.cast",
        "del\x7f.cast",
        "bad-\udcff-bytes.cast",  # what os.walk yields for a name that is not UTF-8
        "a/",
    ],
)
def test_unsafe_ids_are_rejected(rid: str) -> None:
    assert not valid_id(rid)


UNICODE_NAMES = [
    "ssh~20260101T000000~équipe~projet~serveur-01~zoë.müller~x.cast",
    "ssh~20260101T000000~t~p~s~o'brien~x.cast",
    "ssh~20260101T000000~t~p~s~u~run#2.cast",
    "ssh~20260101T000000~t~p~s~u~🚀launch.cast",
    "日本/セッション.cast",
    "100% done.cast",
    "%2e%2e/x.cast",  # a folder literally named %2e%2e: ids are never decoded twice
    "C:/x.cast",  # a folder named C: on a POSIX file system or in a bucket
]


@pytest.mark.parametrize(
    "rid", [SSH, f"prefix/sub/{SSH}", "rdp~x.asa-1.mkv", "odd name (1).webm", " spaced .cast", *UNICODE_NAMES]
)
def test_safe_ids_are_accepted(rid: str) -> None:
    assert valid_id(rid)
