"""``[store]``: a SQLite file or a PostgreSQL url, the password kept out of the url."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def config(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[store]\n{store}\n", encoding="utf-8")
    return path


def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    store = load_config(config(tmp_path, 'url = "sqlite:////var/lib/empfang/e.sqlite3"')).store
    assert not store.postgresql
    assert store.path == Path("/var/lib/empfang/e.sqlite3") == store.database
    relative = load_config(config(tmp_path, 'url = "sqlite:///e.sqlite3"')).store
    assert relative.database == Path("e.sqlite3")


def test_path_alone_is_the_sqlite_file(tmp_path: Path) -> None:
    store = load_config(config(tmp_path, 'path = "x.sqlite3"')).store
    assert store.database == Path("x.sqlite3") and store.database_password is None


def test_a_postgresql_url_passes_tls_options_through_and_reads_the_password_file(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "pg-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    url = "postgresql://empfang@db.example.com:5432/empfang?sslmode=verify-full"
    store = load_config(config(tmp_path, f'url = "{url}"\npassword_file = "{secret}"')).store
    assert store.postgresql and store.database == url
    assert store.database_password == "s3cret"
    assert "s3cret" not in repr(store)


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        ('url = "mysql://db/empfang"', "url must be sqlite:///<file> or postgresql://"),
        ('url = "sqlite:///"', "needs a file"),
        (
            'url = "postgresql://empfang:pw@db/empfang"\npassword = "pw"',
            "password is given twice",
        ),
    ],
)
def test_a_url_it_cannot_use_is_refused_by_key(tmp_path: Path, store: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as refused:
        load_config(config(tmp_path, store))
    assert "store" in str(refused.value) and "pw@" not in str(refused.value)
