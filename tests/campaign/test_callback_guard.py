"""On the real API, a callback URL the provider can never reach is refused before any call.

The real API is any base URL whose host is not loopback (the simulator always is). A callback
URL whose literal host is loopback, private (RFC 1918), link-local or ``localhost`` would lose
every result, so such a send stops with exit status 2 unless ``--allow-private-callback-url``
says a tunnel or VPN reaches it. Nothing here contacts the real API: every refusal comes first.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignSender, plan_campaign
from cmvoice_nb.campaign.send import check_callback_urls
from cmvoice_nb.cli import main
from cmvoice_nb.client import VoiceClient, callback_url_problem, is_real_api
from cmvoice_nb.errors import CampaignError

from .._wait import scaled
from ._lists import notification_defaults, notification_flags

REAL = "https://api.cm.example/voiceapi/v2"  # never contacted: the refusal comes before any request
UNREACHABLE = ["http://127.0.0.1:9000/cb", "http://localhost:9000/cb", "http://10.0.0.5/cb", "http://192.168.1.20/cb",
               "http://172.16.0.9/cb", "http://169.254.3.4/cb", "http://[::1]:9000/cb", "http://[fe80::1]/cb",
               "http://0.0.0.0:9000/cb"]


def send_args(tmp_path, callback_url, *extra):
    src = tmp_path / "people.csv"
    src.write_text("callee,name\n+31612345610,Ann\n")
    return ["send", str(src), *notification_flags(), "--journal", str(tmp_path / "j.sqlite"), "-o",
            str(tmp_path / "out.csv"), "--base-url", REAL, "--callback-url", callback_url, "--no-progress", *extra]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_a_send_to_the_real_api_with_an_unreachable_callback_url_exits_2(url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", "00000000-0000-0000-0000-000000000000")
    assert main(send_args(tmp_path, url)) == 2
    err = capsys.readouterr().err
    assert f"callback URL {url}: " in err and "which the provider cannot reach" in err
    assert "--allow-private-callback-url" in err and "nothing was sent" in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "j.sqlite").exists()


def test_a_dry_run_says_so_too_and_the_flag_says_a_tunnel_reaches_it(tmp_path, no_token_env, capsys):
    assert main(send_args(tmp_path, "http://192.168.1.20/cb", "--dry-run")) == 2
    assert main(send_args(tmp_path, "http://192.168.1.20/cb", "--dry-run", "--allow-private-callback-url")) == 0
    assert main(send_args(tmp_path, "https://callbacks.example.org/cm", "--dry-run")) == 0


def test_the_simulator_on_loopback_reaches_a_loopback_receiver(tmp_path, sim, token):
    argv = send_args(tmp_path, "http://127.0.0.1:9/cb")
    argv[argv.index("--base-url") + 1] = sim.base_url
    assert main(argv) == 0


def test_a_followup_wave_to_the_real_api_is_checked_the_same_way(tmp_path, sim, token, capsys):
    from cmvoice_nb.campaign import send_campaign

    send_campaign(pd.DataFrame({"callee": ["+31612340109"]}), sim.client(), journal=tmp_path / "j.sqlite",
                  app="notification", name="spring", defaults=notification_defaults("Hi"), rate=500, progress=False)
    sim.wait_idle(scaled(30))
    [call] = sim.calls.to_dict("records")  # ...09 rang out: due again
    callback = {"call-id": call["call_id"], "instruction-id": call["instruction_id"], "result": {"code": 9},
                "finished-on": "2024-01-01T10:00:00Z"}
    (tmp_path / "cb.jsonl").write_text(json.dumps(callback) + "\n")
    argv = ["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "cb.jsonl"),
            "-o", str(tmp_path / "w.csv"), "--base-url", REAL, "--callback-url", "http://10.1.2.3/cb", "--dry-run",
            "--now", "2024-01-01T11:00:00Z"]
    assert main(argv) == 2 and "10.1.2.3 is a private address" in capsys.readouterr().err


def test_python_refuses_the_sender_before_any_call_unless_told(tmp_path):
    plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610"]}), app="notification", name="c",
                         defaults=notification_defaults("Hi", callback_url="http://localhost:9000/cb"))
    client = VoiceClient("00000000-0000-0000-0000-000000000000", base_url=REAL)
    with pytest.raises(CampaignError, match="localhost is this machine, which the provider cannot reach"):
        CampaignSender(plan, client, journal=tmp_path / "j.sqlite", progress=False)
    assert CampaignSender(plan, client, journal=tmp_path / "j.sqlite", allow_private_callback_url=True,
                          progress=False).options.allow_private_callback_url
    with pytest.raises(CampaignError, match="allow_private_callback_url=True"):
        check_callback_urls(plan, base_url=REAL)
    check_callback_urls(plan, base_url="http://127.0.0.1:8765/voiceapi/v2")  # the simulator: fine


def test_the_check_a_confirmation_can_call_reads_literal_hosts_only():
    assert is_real_api(REAL) and not is_real_api("http://[::1]:8765")
    assert callback_url_problem("https://cb.example.org/x", base_url=REAL) is None  # no DNS lookup
    assert callback_url_problem("http://172.32.0.1/x", base_url=REAL) is None  # outside 172.16.0.0/12
    assert callback_url_problem(None, base_url=REAL) is None
