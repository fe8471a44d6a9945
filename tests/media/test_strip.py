"""Images lose every piece of metadata and keep standing upright (``bot.media.strip``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from PIL import Image

from bot.errors import ImageUndecodable
from bot.media.strip import strip_image
from tests.media.images import HEIGHT, WIDTH, metadata_left, phone_photo, upright


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_metadata_is_removed_and_the_picture_turned_upright(
    tmp_path: Path, fmt: str, mime: str
) -> None:
    source = tmp_path / "in"
    source.write_bytes(phone_photo(fmt=fmt))
    assert metadata_left(source.read_bytes())  # the test picture does carry it
    target = tmp_path / "out"

    facts = strip_image(source, target, mime)

    content = target.read_bytes()
    assert metadata_left(content) == []
    assert (facts.width, facts.height, facts.mime) == (HEIGHT, WIDTH, mime)
    assert upright(content)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_real_format_wins_over_the_declared_one(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.write_bytes(phone_photo(fmt="PNG"))
    facts = strip_image(source, tmp_path / "out", "image/jpeg")
    assert facts.mime == "image/png"
    assert metadata_left((tmp_path / "out").read_bytes()) == []


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4 not a picture", phone_photo()[:300], b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"],
    ids=["pdf", "truncated-jpeg", "gif"],
)
def test_what_is_no_readable_picture_is_refused(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "in"
    source.write_bytes(content)
    with pytest.raises(ImageUndecodable) as refused:
        strip_image(source, tmp_path / "out", "image/jpeg")
    assert refused.value.mime == "image/jpeg"
    assert "image/jpeg" in str(refused.value)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    source = tmp_path / "bomb.png"
    Image.new("1", (8000, 6000)).save(source, format="PNG")  # 48 MP in a few kilobytes
    assert source.stat().st_size < 100_000
    with pytest.raises(ImageUndecodable, match="8000×6000 pixels is too large"):
        strip_image(source, tmp_path / "out", "image/png")
    assert not (tmp_path / "out").exists()
