"""Jobs through the SDK (``score_job`` → ``Job.wait()`` with progress) and the CLI
(``opendata compute job ...``), against a real portal on a socket."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opendata.cli import main
from opendata.client import Job, OpenDataClient, OpenDataError
from tests.compute.sme_model import expected_scores, firms
from tests.compute.test_api_models import approved_model
from tests.compute.world import World


@pytest.fixture(scope="module")
def model_id(world: World) -> int:
    return approved_model(world, world.main.headers(world.client))


def sdk(world: World, portal: str) -> OpenDataClient:
    return OpenDataClient(portal, client_id=world.bank.client_id, client_secret=world.bank.client_secret,
                          scope=f"licence:{world.main.id}", key=world.bank.key)


def test_a_job_from_the_sdk_waits_with_progress_and_decrypts(world: World, portal: str, model_id: int,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    subjects = firms(world)
    seen: list[dict[str, Any]] = []
    with sdk(world, portal) as od:
        job = od.score_job(model_id, subjects)
        assert isinstance(job, Job) and job.id.startswith("job_")
        assert job.wait(progress=seen.append) == expected_scores(world, subjects)
        assert seen[-1]["state"] == "succeeded" and seen[-1]["progress"]["done"] == seen[-1]["progress"]["total"]
        assert od.job(job.id).wait() == expected_scores(world, subjects)  # a bar (tqdm is a test dependency)
        assert f"score {job.id}" in capsys.readouterr().err
        assert job.id in [j["id"] for j in od.jobs("succeeded")]
        with pytest.raises(OpenDataError) as finished:
            job.cancel()
        assert (finished.value.status, finished.value.code) == (409, "job_finished")


def run(world: World, portal: str, key_file: Path, *args: str) -> tuple[int, str]:
    env = {"OPENDATA_PORTAL_URL": portal, "OPENDATA_CLIENT_ID": world.bank.client_id,
           "OPENDATA_CLIENT_SECRET": world.bank.client_secret, "OPENDATA_SCOPE": f"licence:{world.main.id}",
           "OPENDATA_COMPUTE_KEY": str(key_file)}
    result = CliRunner().invoke(main, ["compute", "job", *args], env=env)
    return result.exit_code, result.output


def test_jobs_from_the_shell(world: World, portal: str, model_id: int, tmp_path: Path) -> None:
    key_file = OpenDataClient.save_key(world.bank.key, tmp_path / "key.json")
    subjects = firms(world)[:4]
    expected = expected_scores(world, subjects)
    code, output = run(world, portal, key_file, "score", "--model", str(model_id), *subjects)
    assert code == 0, output
    printed = dict(re.findall(r"(\w{18})\t([-\d.]+)\n", output))  # the progress bar shares the output
    assert {s: Decimal(v) for s, v in printed.items()} == expected

    code, output = run(world, portal, key_file, "score", "--model", str(model_id), "--no-wait", "--json", *subjects)
    assert code == 0, output
    job_id = json.loads(output)["id"]
    code, output = run(world, portal, key_file, "wait", job_id, "--json")
    assert code == 0, output
    assert {s: Decimal(v) for s, v in json.loads(output).items()} == expected
    code, output = run(world, portal, key_file, "status", job_id)
    assert code == 0 and f"{job_id}\tsucceeded" in output, output
    assert job_id in run(world, portal, key_file, "list")[1]
    code, output = run(world, portal, key_file, "cancel", job_id)
    assert code == 1 and "409 job_finished" in output, output
    code, output = run(world, portal, key_file, "status", "job_" + "0" * 24)
    assert code == 1 and "404 job_not_found" in output, output
