"""Atomic writes: all or nothing, with normal permissions."""
import os
import stat

import pytest

from cmvoice_nb._fsutil import NotARegularFile, atomic_write_bytes, atomic_writer


def test_a_new_file_gets_umask_permissions_not_owner_only(tmp_path):
    from cmvoice_nb import _fsutil

    old = os.umask(0o022)
    _fsutil._umask.cache_clear()
    try:
        path = atomic_write_bytes(tmp_path / "a.bin", b"x")
    finally:
        os.umask(old)
        _fsutil._umask.cache_clear()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_writer(path, "w", encoding="utf-8") as fh:
            fh.write("half")
            raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_non_durable_writes_are_still_complete(tmp_path):
    path = atomic_write_bytes(tmp_path / "sub" / "b.bin", b"data", durable=False)
    assert path.read_bytes() == b"data"


def test_a_folder_is_never_written_over(tmp_path):
    folder = tmp_path / "results.csv"
    folder.mkdir()
    with pytest.raises(NotARegularFile, match="results.csv: is a folder, not a regular file"):
        atomic_write_bytes(folder, b"x")
    assert folder.is_dir() and sorted(tmp_path.iterdir()) == [folder]  # and no temporary file is left


@pytest.mark.skipif(os.devnull != "/dev/null", reason="POSIX devices (Windows has NUL, not a file)")
def test_a_device_behind_a_link_is_never_replaced(tmp_path):
    # As root, renaming over /dev/null replaces the device with a regular file. The link keeps the
    # test harmless should the guard ever fail: the rename would replace the link, not the device.
    link = tmp_path / "out.csv"
    link.symlink_to(os.devnull)
    with pytest.raises(NotARegularFile, match="is a device, not a regular file"):
        atomic_write_bytes(link, b"x")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_a_named_pipe_is_never_replaced(tmp_path):
    pipe = tmp_path / "out.csv"
    os.mkfifo(pipe)
    with pytest.raises(NotARegularFile, match="is a pipe"):
        with atomic_writer(pipe, "w", encoding="utf-8") as fh:
            fh.write("x")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and sorted(tmp_path.iterdir()) == [pipe]
