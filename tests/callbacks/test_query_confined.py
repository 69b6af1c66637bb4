"""query() runs SQL confined to the dataset: hostile SQL that reads /etc/passwd, writes with COPY, lists
folders, installs extensions or changes settings is refused with a CallbackError, nothing is written,
and unsafe=True gives a trusted notebook the full DuckDB back. Dataset paths are escaped."""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile

import pandas as pd
import pytest

from cmvoice_nb.callbacks import query
from cmvoice_nb.callbacks.analysis import summarize
from cmvoice_nb.callbacks.load import save_calls
from cmvoice_nb.errors import CallbackError, CMVoiceError

from ._factory import T0, callback, quiet_load

OUTSIDE = "query refused: it reaches outside the dataset"
NOT_READ_ONLY = re.escape("query() only reads the dataset")


@pytest.fixture
def calls():
    return quiet_load([callback(i, start=T0 + dt.timedelta(hours=13 * i)) for i in range(12)])


@pytest.fixture
def box(calls, tmp_path):
    """A dataset, and beside it a file and a folder no query may reach."""
    (tmp_path / "secret.txt").write_text("name,pin\nann,1234\n")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "notes.csv").write_text("a\n1\n")
    return save_calls(calls, tmp_path / "history", partition_by="day")


def snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def refused(dataset, sql, match):
    with pytest.raises(CallbackError, match=match) as info:
        query(dataset, sql)
    assert isinstance(info.value, CMVoiceError) and "unsafe=True" in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM glob('/root/*')",
    "SELECT * FROM read_text('http://127.0.0.1:9/anything')",
])
def test_reading_system_files_listing_folders_or_the_network_is_refused(box, sql):
    message = refused(box, sql, OUTSIDE)
    assert "Permission Error" in message


def test_files_beside_the_dataset_are_out_of_reach_by_any_path(box, tmp_path):
    for sql in (f"SELECT * FROM read_csv('{tmp_path / 'secret.txt'}')",
                f"SELECT * FROM read_csv('{box}/../secret.txt')",
                f"SELECT * FROM read_csv('{box}/day=x/../../private/notes.csv')",
                f"SELECT * FROM glob('{tmp_path}/*')"):
        refused(box, sql, OUTSIDE)


def test_copy_export_and_attach_write_nothing_anywhere(box, tmp_path):
    before = snapshot(tmp_path)
    for sql in (f"COPY (SELECT * FROM calls) TO '{tmp_path / 'leak.csv'}'",
                f"COPY calls TO '{box / 'inside.csv'}'",
                f"EXPORT DATABASE '{tmp_path / 'dump'}'",
                f"ATTACH '{box / 'evil.duckdb'}'"):
        message = refused(box, sql, NOT_READ_ONLY)
        assert "statement" in message
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("sql", ["INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true",
                                 "SELECT 1; SET lock_configuration = false"])
def test_extensions_and_settings_cannot_be_changed(box, sql):
    refused(box, sql, NOT_READ_ONLY)


def test_python_variables_of_the_notebook_are_not_visible_to_the_sql(box):
    secret = pd.DataFrame({"pin": ["1234"]})  # noqa: F841 - DuckDB's replacement scan would find it by name
    with pytest.raises(CallbackError) as info:
        query(box, "SELECT * FROM secret")
    assert "1234" not in str(info.value)


def test_reading_statements_of_every_shape_still_run(box, calls):
    assert query(box, "SELECT count(*) AS n FROM calls")["n"].tolist() == [len(calls)]
    assert "outcome" in query(box, "DESCRIBE calls")["column_name"].tolist()
    assert len(query(box, "SUMMARIZE calls")) == len(calls.columns) + 1
    assert query(box, "WITH a AS (FROM calls) SELECT count(*) AS n FROM a")["n"].tolist() == [len(calls)]
    assert len(query(box, "PIVOT calls ON outcome USING count(*) GROUP BY app")) >= 1
    assert "READ_PARQUET" in "\n".join(query(box, "EXPLAIN SELECT app FROM calls").iloc[:, -1])
    # Work in memory is fine: nothing of it reaches a file.
    assert query(box, "CREATE TEMP TABLE a AS FROM calls; SELECT count(*) AS n FROM a")["n"].tolist() == [len(calls)]


def test_unsafe_gives_a_trusted_notebook_the_full_duckdb(box, tmp_path):
    assert query(box, f"SELECT pin FROM read_csv('{tmp_path / 'secret.txt'}')", unsafe=True)["pin"].tolist() == [1234]
    query(box, f"COPY (SELECT count(*) FROM calls) TO '{tmp_path / 'count.csv'}'", unsafe=True)
    assert (tmp_path / "count.csv").exists()


def test_a_query_leaves_no_spill_folder_behind(box, tmp_path, monkeypatch):
    spills = tmp_path / "tmp"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    query(box, "SELECT count(*) FROM calls")
    with pytest.raises(CallbackError):
        query(box, "SELECT * FROM read_csv('/etc/passwd')")
    assert list(spills.iterdir()) == []


@pytest.mark.parametrize("folder", ["h[1]*", "what?", "o'brien [2026]"])
def test_a_dataset_in_a_folder_named_with_glob_characters_saves_and_queries(calls, tmp_path, folder):
    (tmp_path / "h1x").mkdir()  # what the unescaped pattern h[1]* would match instead
    out = save_calls(calls, tmp_path / folder / "history", partition_by="day")
    assert query(out, "SELECT count(*) AS n FROM calls")["n"].tolist() == [len(calls)]
    assert int(summarize(out)["calls"].iloc[0]) == len(calls)
    one = next(out.rglob("*.parquet"))
    assert query(one, "SELECT count(*) AS n FROM calls")["n"].iloc[0] > 0  # one Parquet file as the dataset
    refused(out, f"SELECT * FROM read_csv('{os.fspath(tmp_path / 'h1x')}')", OUTSIDE)
