"""Types and sizes: WhatsApp's table by default, narrowed by ``[media]`` (``bot.media.limits``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import MediaSection
from bot.errors import MediaRefused, MediaTooLarge, MediaTypeRefused
from bot.media.limits import MB, MIME_LIMITS, MediaLimits, human_size, media_class
from bot.sandbox.errors import GraphError
from bot.sandbox.media import check_upload


def test_the_sandbox_refuses_by_the_same_table() -> None:
    for mime, limit in MIME_LIMITS.items():
        check_upload(mime, limit)
        with pytest.raises(GraphError):
            check_upload(mime, limit + 1)


def test_defaults_are_whatsapps_limits() -> None:
    limits = MediaSection().limits()
    for mime, limit in MIME_LIMITS.items():
        limits.check(mime, limit)
        with pytest.raises(MediaTooLarge):
            limits.check(mime, limit + 1)
    limits.check("audio/ogg; codecs=opus", 1000)


def test_a_refusal_says_type_and_size_in_words() -> None:
    limits = MediaLimits()
    with pytest.raises(MediaTooLarge) as large:
        limits.check("image/jpeg", 7 * MB + 300 * 1024)
    assert str(large.value) == (
        "the image/jpeg file (7.3 MB) is larger than the 5 MB allowed for this type"
    )
    assert (large.value.mime, large.value.size, large.value.limit) == (
        "image/jpeg",
        7647232,
        5 * MB,
    )
    with pytest.raises(MediaTypeRefused) as refused:
        limits.check("application/zip", 2048)
    assert str(refused.value) == "files of type application/zip are not accepted here (2 KB)"
    assert isinstance(refused.value, MediaRefused)


def test_config_narrows_types_and_sizes_by_type_or_class() -> None:
    section = MediaSection.model_validate(
        {
            "allowed_types": ["image/jpeg", "application/pdf", "application/zip", "video/mp4"],
            "max_bytes": {"image": "1MB", "application/pdf": "2.5MB", "document": 3 * MB},
        }
    )
    limits = section.limits()
    limits.check("image/jpeg", MB)
    with pytest.raises(MediaTooLarge):
        limits.check("image/jpeg", MB + 1)
    with pytest.raises(MediaTypeRefused):
        limits.check("image/png", 10)
    assert limits.limit_for("application/pdf") == int(2.5 * MB)  # its own key beats the class
    assert limits.limit_for("application/zip") == 3 * MB
    assert limits.limit_for("video/mp4") == 16 * MB


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"max_bytes": {"image": "6MB"}}, "more than WhatsApp carries"),
        ({"max_bytes": {"pictures": 10}}, "neither a MIME type"),
        ({"max_bytes": {"image/png": "lots"}}, "is not a size"),
        ({"allowed_types": ["jpeg"]}, "not MIME types"),
        ({"keep_days": -1}, "greater than or equal to 0"),
    ],
)
def test_config_mistakes_are_named(settings: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        MediaSection.model_validate(settings)


def test_classes_and_sizes_in_words() -> None:
    assert [media_class(m) for m in ("image/webp", "image/png", "audio/ogg", "text/plain")] == [
        "sticker",
        "image",
        "audio",
        "document",
    ]
    assert [human_size(n) for n in (812, 340 * 1024, int(4.2 * MB), 16 * MB)] == [
        "812 bytes",
        "340 KB",
        "4.2 MB",
        "16 MB",
    ]
