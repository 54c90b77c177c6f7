"""The opendata-client command, as a user types it, against a real portal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from odc_support import LivePortal, feedback_on
from opendata_client.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(autouse=True)
def no_portal_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENDATA_PORTAL", "OPENDATA_CLIENT_ID", "OPENDATA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_show_rows_in_text_and_json(live_portal: LivePortal, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--portal", live_portal.url, "search", "公交")
    assert code == 0 and out.splitlines()[0] == "1 datasets" and out.splitlines()[1].startswith("bus-stops\t广州市公交站点")
    code, out, _ = run(capsys, "--portal", live_portal.url, "search", "--json", "--domain", "交通")
    assert code == 0 and [d["id"] for d in json.loads(out)["items"]] == ["bus-stops"]
    code, out, _ = run(capsys, "--portal", live_portal.url, "--json", "show", "people")
    assert code == 0 and json.loads(out)["resources"][0]["id"] == "list"
    code, out, _ = run(capsys, "--portal", live_portal.url, "show", "bus-stops")
    assert code == 0 and "resource stops" in out and "lines\tinteger\t线路数" in out
    code, out, _ = run(capsys, "--portal", live_portal.url, "rows", "people", "list", "--fields", "age,district",
                       "--sort", "age", "--where", "district=天河区")
    assert code == 0 and out.splitlines() == ["age,district", "24,天河区", "34,天河区"]
    code, out, _ = run(capsys, "--portal", live_portal.url, "rows", "people", "list", "--json", "--max-rows", "1",
                       "--sort=-age", "--fields", "age")
    body = json.loads(out)
    assert code == 0 and body["rows"] == [{"age": 47}] and body["stopped_by"] == "max_rows" and body["next_cursor"]


def test_licensed_rows_stop_at_the_quota_with_exit_4(live_portal: LivePortal,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--portal", live_portal.url, "--client-id", live_portal.client_id,
                         "--client-secret", live_portal.client_secret, "rows", "si-headcount", "monthly",
                         "--fields", "month,headcount", "--sort", "month", "--page-size", "2")
    assert code == 4
    assert out.splitlines() == ["month,headcount", "2024-01-01,31", "2024-02-01,32", "2024-03-01,33"]
    assert err.startswith("opendata-client: stopped at the licence's daily quota after 3 rows") and "--cursor" in err


def test_download_and_refusals(live_portal: LivePortal, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "stops.csv"
    code, out, _ = run(capsys, "--portal", live_portal.url, "download", "bus-stops", "stops", "--bom",
                       "-o", str(target), "--json")
    assert code == 0 and json.loads(out) == {"path": str(target), "bytes": target.stat().st_size}
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    code, out, err = run(capsys, "--portal", live_portal.url, "download", "si-headcount", "monthly",
                         "-o", str(tmp_path / "x.csv"))
    assert code == 1 and out == "" and err.startswith("opendata-client: the portal refused: 403 licence_required")
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x.csv").exists()


def test_an_unreachable_portal_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """The installed entry point, in a process of its own: no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDATA_CLIENT_")}
    env.update({"PYTHONPATH": SRC, "OPENDATA_PORTAL": "http://127.0.0.1:9"})
    for extra in ([], ["--json"]):
        done = subprocess.run([sys.executable, "-m", "opendata_client", "--retries", "0", *extra, "show", "x"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 3
        assert done.stderr.splitlines() == [
            "opendata-client: cannot reach the portal at http://127.0.0.1:9 ([Errno 111] Connection refused)"]
        if extra:
            assert json.loads(done.stdout)["error"]["code"] == "unreachable"
        else:
            assert done.stdout == ""


def test_versions_and_feedback_in_text_and_json(live_portal: LivePortal, capsys: pytest.CaptureFixture[str]) -> None:
    portal = ["--portal", live_portal.url]
    code, out, _ = run(capsys, *portal, "versions", "people")
    [line] = out.splitlines()
    assert code == 0 and re.fullmatch(r"1\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S*\tlist\t\w+\t4 rows\t\+4 -0( ~0)?", line), line
    code, out, _ = run(capsys, *portal, "versions", "people", "1", "--json")
    assert code == 0 and json.loads(out)["number"] == 1 and "samples" in json.loads(out)
    code, out, err = run(capsys, *portal, "versions", "people", "7")
    assert code == 1 and "not_found" in err
    code, out, _ = run(capsys, *portal, "feedback", "people")
    assert code == 0 and out.splitlines() == ["not rated (0 ratings); 0 comments, page 1"]
    comment_id = feedback_on(live_portal, "people", "gz-hrss")
    code, out, _ = run(capsys, *portal, "feedback", "people")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "3.0 stars (2 ratings); 1 comments, page 1"
    assert lines[1].startswith(f"#{comment_id}\t") and lines[1].endswith("\treader-b\t[problem outdated open] 年龄一列似乎没有更新。")
    assert lines[2] == "\t↳ hr-clerk (publisher): 已核实，下月更新。"
    code, out, _ = run(capsys, *portal, "--json", "feedback", "people")
    body = json.loads(out)
    assert code == 0 and body["rating"]["average"] == 3.0 and body["rating"]["distribution"]["4"] == 1
    assert body["comments"]["items"][0]["replies"][0]["body"] == "已核实，下月更新。"


def test_bad_usage_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["rows", "d", "r", "--where", "nonsense"])
    assert caught.value.code == 2 and "--where 'nonsense': expected FIELD=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["--client-id", "odc_1", "search"])
    assert caught.value.code == 2
