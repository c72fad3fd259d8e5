"""Hostile .keras archives, made from the bundled model's file by replacing one member."""

import io
import json
import zipfile
from collections.abc import Callable

from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME

BUNDLED = BUNDLED_DIR / f"{BUNDLED_NAME}.keras"


def bundled_members() -> dict[str, bytes]:
    with zipfile.ZipFile(BUNDLED) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def bundled_config() -> dict:
    return json.loads(bundled_members()["config.json"])


def archive_with(
    replace: dict[str, bytes | Callable[[zipfile.ZipFile], None]], *, compression: int = zipfile.ZIP_STORED
) -> bytes:
    """The bundled .keras with some members replaced; a callable writes its member itself (streamed)."""
    buffer = io.BytesIO()
    members = bundled_members()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in dict.fromkeys([*members, *replace]):
            content = replace.get(name, members.get(name))
            if callable(content):
                content(archive)
            else:
                archive.writestr(name, content, compress_type=compression)
    return buffer.getvalue()


def padded_config_bomb(megabytes: int) -> Callable[[zipfile.ZipFile], None]:
    """config.json: the real configuration followed by `megabytes` of spaces (still valid JSON), deflated."""

    def write(archive: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("config.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(bundled_members()["config.json"])
            block = b" " * (1024 * 1024)
            for _ in range(megabytes):
                member.write(block)

    return write
