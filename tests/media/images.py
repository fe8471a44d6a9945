"""Test pictures as phones make them: EXIF with GPS and a rotation, XMP, a comment, an ICC
profile and an embedded thumbnail; and the checks that none of it survived."""

from __future__ import annotations

import io

from PIL import Image, ImageCms

WIDTH, HEIGHT = 64, 32
"""As stored; orientation 6 shows it upright as 32 wide and 64 high."""
RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b"<rdf:RDF><rdf:Description>secret-location-Berlin</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def phone_photo(*, fmt: str = "JPEG") -> bytes:
    """Left half red, right half blue as stored, with orientation 6 (turn right to view):
    upright the top is red and the bottom blue."""
    picture = Image.new("RGB", (WIDTH, HEIGHT), BLUE)
    picture.paste(RED, (0, 0, WIDTH // 2, HEIGHT))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Editor 1.0"  # Software
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    options: dict[str, object] = {"exif": exif, "icc_profile": icc}
    if fmt == "JPEG":
        options |= {"comment": b"taken at Kundenstrasse 1", "xmp": XMP, "quality": 95}
    else:
        options |= {"xmp": XMP} if fmt == "WEBP" else {}
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def metadata_left(content: bytes) -> list[str]:
    """What of a picture's metadata is still in ``content`` (empty: clean)."""
    found = []
    with Image.open(io.BytesIO(content)) as picture:
        exif = picture.getexif()
        if len(exif):
            found.append(f"EXIF tags {sorted(exif)}")
        if exif.get_ifd(GPS_IFD):
            found.append("GPS")
        for key in ("exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp", "photoshop"):
            if picture.info.get(key):
                found.append(key)
        applist = getattr(picture, "applist", [])
        found += [marker for marker, _ in applist if marker not in ("APP0",)]
    for needle in (b"Exif\x00\x00", b"secret-location", b"PhoneMaker", b"Kundenstrasse"):
        if needle in content:
            found.append(needle.decode(errors="replace"))
    return found


def upright(content: bytes) -> bool:
    """Portrait, red on top and blue below: the orientation was applied."""
    with Image.open(io.BytesIO(content)) as picture:
        rgb = picture.convert("RGB")
        if rgb.size != (HEIGHT, WIDTH):
            return False
        top = rgb.getpixel((HEIGHT // 2, WIDTH // 4))
        bottom = rgb.getpixel((HEIGHT // 2, 3 * WIDTH // 4))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    return top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
