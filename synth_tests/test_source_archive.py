"""Function sources zip to the same bytes whatever the files' timestamps."""

import os
import zipfile
import io

import pytest

from constructs.shared.source_archive import reproducible_zip


def test_same_content_same_bytes_after_touch(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.js").write_text("exports.handler = () => {};\n")
    (tmp_path / "src" / "package.json").write_text("{}\n")
    first = reproducible_zip(tmp_path / "src")
    for path in (tmp_path / "src").iterdir():
        os.utime(path, (1_900_000_000, 1_900_000_000))
    assert reproducible_zip(tmp_path / "src") == first


def test_content_change_changes_bytes_and_entries_are_sorted(tmp_path):
    (tmp_path / "b.js").write_text("b")
    (tmp_path / "a.js").write_text("a")
    first = reproducible_zip(tmp_path)
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["a.js", "b.js"]
    (tmp_path / "a.js").write_text("changed")
    assert reproducible_zip(tmp_path) != first


def test_a_missing_source_folder_stops_instead_of_zipping_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        reproducible_zip(tmp_path / "missing")
