"""One shared artifact location: ``--artifacts DIR | file:///DIR`` overrides the store's own folder, and the
location's manifest (``CURRENT.json``) names every artifact's current version with a growing serial."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from shelfwise.storage import ArtifactLocation, ArtifactStore, open_artifacts, open_store


def test_a_path_and_a_file_url_name_the_same_folder(tmp_path: Path) -> None:
    assert ArtifactLocation.parse(str(tmp_path)).path == tmp_path
    assert ArtifactLocation.parse(f"file://{tmp_path}").path == tmp_path
    assert ArtifactLocation.parse("file:///srv/a%20b").path == Path("/srv/a b")


@pytest.mark.parametrize(
    ("text", "says"),
    [("s3://bucket/shop", "scheme 's3' is not supported"), ("file://host/x", "local path"), ("", "needs")],
)
def test_an_unsupported_location_says_what_to_give(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        ArtifactLocation.parse(text)


def test_the_manifest_names_the_current_versions_and_grows_its_serial(tmp_path: Path) -> None:
    art = open_artifacts(tmp_path / "shared")
    assert art.current()["versions"] == {}
    with art.writer("recommender", catalogue_seq=3, event_seq=40) as d:
        (d / "x.json").write_text("{}")
    with art.writer("item-vectors", catalogue_seq=3, event_seq=40) as d:
        np.save(d / "v.npy", np.ones(2))
    with art.writer("recommender", catalogue_seq=4, event_seq=50) as d:
        (d / "x.json").write_text("{}")
    doc = json.loads((tmp_path / "shared" / "CURRENT.json").read_text())
    assert doc["versions"] == {"recommender": 2, "item-vectors": 1}
    assert doc["serial"] == 3
    assert doc["cursors"]["recommender"] == {"catalogue_seq": 4, "event_seq": 50}
    assert art.current_versions() == {"recommender": 2, "item-vectors": 1}


def test_a_location_without_a_manifest_reads_its_latest_pointers(tmp_path: Path) -> None:
    art = ArtifactStore(tmp_path)
    for _ in range(2):
        with art.writer("recommender") as d:
            (d / "x.json").write_text("{}")
    (tmp_path / "CURRENT.json").unlink()  # as written before the manifest existed
    assert art.current() == {"serial": 0, "updated": None, "versions": {"recommender": 2}, "cursors": {}}


def test_concurrent_writers_keep_each_others_entries(tmp_path: Path) -> None:
    art = ArtifactStore(tmp_path)

    def write(name: str) -> None:
        for _ in range(5):
            with art.writer(name) as d:
                (d / "x.json").write_text("{}")

    threads = [threading.Thread(target=write, args=(f"a{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = art.current()
    assert doc["versions"] == {f"a{n}": 5 for n in range(4)}
    assert doc["serial"] == 20


def test_open_store_with_artifacts_reads_and_writes_there(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    with open_store(tmp_path / "shop", artifacts=f"file://{shared}") as st:
        assert st.artifacts.root == shared
        with st.artifacts.writer("recommender") as d:
            (d / "x.json").write_text("{}")
    assert (shared / "recommender" / "v0001" / "manifest.json").exists()
    assert not (tmp_path / "shop" / "artifacts").exists()
    with open_store(tmp_path / "shop", create=False) as st:  # without the option: the store's own folder
        assert st.artifacts.root == tmp_path / "shop" / "artifacts"


def test_the_cli_refuses_an_unsupported_location_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    open_store(tmp_path / "shop").close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shelfwise",
            "train",
            "--store",
            str(tmp_path / "shop"),
            "--artifacts",
            "s3://b/shop",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "scheme 's3' is not supported" in lines[0], proc.stderr
