"""Reading one record back by (file, offset): the index stores where, this module fetches what."""
from __future__ import annotations

from pathlib import Path
from typing import IO

from warcio.archiveiterator import ArchiveIterator

from archive.errors import StoreError

CHUNK = 1 << 16


def copy_payload(path: Path, offset: int, out: IO[bytes]) -> None:
    """Stream the payload of the record at ``offset`` to ``out``, HTTP content-decoded for responses."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror} (run `citevault reindex` if WARCs moved)") from None
    with fh:
        fh.seek(offset)
        for record in ArchiveIterator(fh):
            stream = record.content_stream() if record.http_headers else record.raw_stream
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                out.write(chunk)
            return
    raise StoreError(f"no WARC record at {path.name}:{offset} (run `citevault verify`)")
