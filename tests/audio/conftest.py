import subprocess
from pathlib import Path

import pytest

from cmvoice_nb.audio.decode import find_ffmpeg

from .._audio import speechlike, write_sf


@pytest.fixture(scope="session")
def m4a_bytes(tmp_path_factory) -> bytes:
    """A 1 s AAC-in-MP4 phone-style recording made with the ffmpeg from imageio-ffmpeg."""
    folder = tmp_path_factory.mktemp("m4a")
    src, out = folder / "in.wav", folder / "out.m4a"
    write_sf(src, speechlike(1.0, 44100), 44100, subtype="PCM_16")
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(src),
                    "-c:a", "aac", "-b:a", "64k", str(out)], check=True)
    return out.read_bytes()


@pytest.fixture
def m4a_file(tmp_path, m4a_bytes) -> Path:
    p = tmp_path / "phone recording.m4a"
    p.write_bytes(m4a_bytes)
    return p
