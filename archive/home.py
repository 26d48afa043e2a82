"""The data home: where WARC files and the embedded SQLite index live (README "Where the data lives")."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from archive.errors import StoreError

DEFAULT_HOME = "citevault-data"
DB_FILENAME = "citevault.sqlite"


@dataclass(frozen=True)
class DataHome:
    """Resolved locations. ``db_url`` is the embedded SQLite file unless ``--db``/``CITEVAULT_DB`` says so."""

    root: Path
    db_url: str

    @property
    def warcs(self) -> Path:
        return self.root / "warcs"

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None, db: str | None = None) -> DataHome:
        root = Path(home or os.environ.get("CITEVAULT_HOME") or DEFAULT_HOME).expanduser().absolute()
        db_url = db or os.environ.get("CITEVAULT_DB") or f"sqlite:///{root / DB_FILENAME}"
        return cls(root=root, db_url=db_url)

    def exists(self) -> bool:
        return self.root.is_dir()

    def create(self) -> None:
        try:
            self.warcs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data home {self.root}: {exc.strerror} (set CITEVAULT_HOME or --home)") from None

    def warc_path(self, filename: str) -> Path:
        """Resolve a WARC file name stored in the index (never a path) to a file under ``warcs/``."""
        if "/" in filename or filename.startswith("."):
            raise StoreError(f"refusing WARC file name {filename!r} from the index")
        path = self.warcs / filename
        if not path.exists():
            being_written = self.warcs / (filename + ".open")  # a crawl is still writing it
            if being_written.exists():
                return being_written
        return path
