"""Attacks on measured quality: a reference rule into data that is not open would make the
public quality report (/api/v1/datasets/{id}/quality, the dataset page) a membership oracle
on that data -- its publisher's upload of candidate values tells, by the failed count, which
of them the conditional or closed table holds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendata.cli import main
from tests.quality.catalogue import REGISTER, quality_manifest, write_quality_catalogue


@pytest.mark.parametrize("level", ["conditional", "closed"])
def test_a_reference_into_data_that_is_not_open_is_refused(tmp_path: Path, level: str) -> None:
    raw = quality_manifest()
    register = copy.deepcopy(REGISTER)
    register["open_level"] = level
    raw["datasets"][0] = register
    result = CliRunner().invoke(main, ["catalogue", "validate", str(write_quality_catalogue(tmp_path / "c", raw))],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "dataset 'permits', resource 'list', field 'credit_code', key 'references': " \
           f"reference into enterprise-register/main, which is {level}" in result.output


def test_a_reference_into_another_catalogues_closed_data_is_not_measured(tmp_path: Path, database_url: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI's --database-url sets OPENDATA_DATABASE_URL in this process: undone after the test.
    monkeypatch.setenv("OPENDATA_DATABASE_URL", database_url)
    from tests.factories import manifest, write_catalogue
    from tests.quality.catalogue import PERMITS, PERMITS_CSV, REGISTER_CSV

    def run(*args: str):
        return CliRunner().invoke(main, ["--database-url", database_url, *args], catch_exceptions=False)

    register = {**copy.deepcopy(REGISTER), "open_level": "closed"}
    first = write_catalogue(tmp_path / "registers", manifest(catalogue={"id": "registers", "title_zh": "登记"},
                                                              datasets=[register]),
                            {"data/register.csv": REGISTER_CSV})
    housing = [{"id": "gz-housing", "name_zh": "广州市住房和城乡建设局", "name_en": "Guangzhou Housing Bureau"}]
    permits = {**copy.deepcopy(PERMITS), "publisher": "gz-housing"}  # another department's catalogue
    second = write_catalogue(tmp_path / "permits", manifest(catalogue={"id": "permits", "title_zh": "许可"},
                                                             publishers=housing, datasets=[permits]),
                             {"data/permits.csv": PERMITS_CSV})
    assert run("catalogue", "load", str(first)).exit_code == 0
    assert run("catalogue", "load", str(second)).exit_code == 0
    report = json.loads(run("catalogue", "quality", "permits", "--json").output)
    reference = next(r for r in report["resources"][0]["rules"] if r["kind"] == "reference")
    assert reference["error"].startswith("reference into enterprise-register/main, which is closed")
    assert reference["failed"] == 0 and reference["consistency"] is None
