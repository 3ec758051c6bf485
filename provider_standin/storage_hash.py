"""The hashes Cloud Storage reports for an object: base64 MD5 and base64 big-endian CRC32C."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache


def md5_base64(content: bytes) -> str:
    return base64.b64encode(hashlib.md5(content).digest()).decode()


def file_md5_base64(path: str) -> str:
    """tpgresource.GetFileMd5Hash: "" when the file cannot be read (the provider only logs it)."""
    try:
        with open(path, "rb") as source:
            return md5_base64(source.read())
    except OSError:
        return ""


@lru_cache(maxsize=1)
def _crc32c_table() -> tuple:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc32c_base64(content: bytes) -> str:
    table = _crc32c_table()
    crc = 0xFFFFFFFF
    for byte in content:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()
