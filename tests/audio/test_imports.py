import json
import subprocess
import sys


def test_importing_the_audio_package_and_its_cli_loads_nothing_heavy():
    code = ("import sys, json; import cmvoice_nb.audio, cmvoice_nb.commands.audio; "
            "print(json.dumps([m for m in ('numpy', 'pandas', 'soundfile', 'soxr', 'av', 'pydub') "
            "if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_every_public_audio_name_resolves():
    import cmvoice_nb.audio as audio

    assert [n for n in audio.__all__ if not hasattr(audio, n)] == []
