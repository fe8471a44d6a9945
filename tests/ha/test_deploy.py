"""deploy/: the compose file and its config stay consistent (no Docker engine here to run
them): every secret the config reads is mounted, each replica has a name of its own and is
checked on /readyz, and the config loads with nothing wrong but its placeholders."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from bot.config import Settings, check_settings

DEPLOY = Path(__file__).parents[2] / "deploy"
REPLICAS = ("empfang-1", "empfang-2")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def config_path_in_image() -> str:
    """Where the image's ``empfang`` looks for its config (the Dockerfile's EMPFANG_CONFIG)."""
    found = re.search(r"EMPFANG_CONFIG=(\S+)", (DEPLOY.parent / "Dockerfile").read_text())
    assert found is not None
    return found.group(1)


def secrets_read_by_config() -> set[str]:
    text = (DEPLOY / "empfang.toml").read_text()
    return set(re.findall(r'_file = "/run/secrets/([a-z_]+)"', text))


def test_each_replica_has_its_name_its_volume_and_a_readiness_check() -> None:
    services = compose()["services"]
    names = {services[r]["environment"]["EMPFANG_HA__REPLICA"] for r in REPLICAS}
    assert names == set(REPLICAS)
    assert len({services[r]["volumes"][0] for r in REPLICAS}) == 2
    for replica in REPLICAS:
        assert "/readyz" in " ".join(services[replica]["healthcheck"]["test"])
        assert services[replica]["configs"][0]["target"] == config_path_in_image()
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert all(f"{r}:8080" in caddyfile for r in REPLICAS)
    assert "health_uri /readyz" in caddyfile


def test_every_secret_the_config_reads_is_mounted_from_a_file() -> None:
    spec = compose()
    wanted = secrets_read_by_config()
    assert {"postgres_password", "pseudonym_key"} <= wanted
    for replica in REPLICAS:
        assert wanted <= set(spec["services"][replica]["secrets"])
    assert all(spec["secrets"][name] == {"file": f"./secrets/{name}"} for name in wanted)
    assert "secrets/" in (DEPLOY / ".gitignore").read_text()


def test_the_config_has_nothing_wrong_but_its_placeholders(tmp_path: Path) -> None:
    data = tomllib.loads((DEPLOY / "empfang.toml").read_text())
    for table in data.values():
        for key, value in table.items():
            if key.endswith("_file"):
                secret = tmp_path / Path(value).name
                secret.write_text("s3cret-value-of-sufficient-length\n")
                table[key] = str(secret)
    settings = Settings(**data)
    assert settings.store.postgresql
    problems = check_settings(settings)
    assert problems
    assert all(line.endswith("still the example placeholder") for line in problems), problems
