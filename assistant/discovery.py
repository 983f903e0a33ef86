"""Which files an ingest reads: supported files under the given folders (hidden files, repeats,
symbolic link loops and links out of a folder left out), their ids and the names users see."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.loaders import is_supported
from assistant.text import printable
from assistant.types import FailedFile


@dataclass(frozen=True)
class SourceFile:
    """A file found for ingestion: absolute path and the name shown to users."""

    path: Path
    source: str


def doc_id_for(path: Path) -> str:
    """Stable catalog id of the document at an absolute path."""
    return hashlib.sha1(str(path).encode()).hexdigest()[:20]


def display_source(path: Path, base: Path) -> str:
    """The path relative to `base` when inside it, else absolute."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


MISSING = "no such file or directory"
NOT_UTF8 = "the name is not valid UTF-8 (rename it to index it)"


def _not_utf8(name: str) -> bool:
    """Whether a path or name holds bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no catalog, log or JSON report can store)."""
    return printable(name) != name


def discover(
    paths: Sequence[Path], base: Path
) -> tuple[list[SourceFile], list[FailedFile], list[Path]]:
    """Supported files under the given paths (hidden files, repeats and symlink loops skipped).

    Returns the files, paths that cannot be ingested (with the reason), and the absolute roots.
    Inside a folder, a symbolic link leading out of that folder is not followed (reported).
    """
    files: dict[Path, SourceFile] = {}
    seen_real: set[Path] = set()
    failed: list[FailedFile] = []
    roots: list[Path] = []
    for given in paths:
        root = Path(os.path.abspath(given))
        if _not_utf8(str(root)):
            failed.append(FailedFile(source=printable(str(given)), error=NOT_UTF8))
            continue
        roots.append(root)
        if root.is_dir():
            for path in _walk(root, base, failed):
                real = path.resolve()
                if real not in seen_real:
                    seen_real.add(real)
                    files[path] = SourceFile(path, display_source(path, base))
        elif root.is_file():
            if is_supported(root):
                if root.resolve() not in seen_real:
                    seen_real.add(root.resolve())
                    files[root] = SourceFile(root, display_source(root, base))
            else:
                failed.append(
                    FailedFile(
                        source=display_source(root, base),
                        error=f"unsupported file type {root.suffix or '(none)'!r}",
                    )
                )
        elif root.exists():  # a device, a socket, a pipe
            failed.append(FailedFile(source=str(given), error="not a regular file or folder"))
        elif root.is_symlink():  # it is there, but leads nowhere
            error = "a symbolic link that leads nowhere (a loop, or its target is missing)"
            failed.append(FailedFile(source=str(given), error=error))
        else:
            failed.append(FailedFile(source=str(given), error=MISSING))
    return sorted(files.values(), key=lambda f: f.source), failed, roots


def _walk(root: Path, base: Path, failed: list[FailedFile]) -> Iterator[Path]:
    """Supported files under `root`, at any depth (an explicit stack: no recursion limit)."""
    real_root = root.resolve()
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            stat = directory.stat()
            if (stat.st_dev, stat.st_ino) in visited:  # a symlink loop or a second link
                continue
            visited.add((stat.st_dev, stat.st_ino))
            with os.scandir(directory) as found:
                entries = sorted(found, key=lambda entry: entry.name)
        except OSError as exc:
            reason = f"cannot read folder: {exc.strerror or exc}"
            failed.append(FailedFile(source=display_source(directory, base), error=reason))
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if _not_utf8(entry.name):  # the folder's own path was checked before
                if entry.is_dir() or is_supported(path):
                    shown = printable(display_source(path, base))
                    failed.append(FailedFile(source=shown, error=NOT_UTF8))
                continue
            try:
                is_dir = entry.is_dir()
                if not is_dir and not (is_supported(path) and entry.is_file()):
                    continue
                if entry.is_symlink() and not path.resolve().is_relative_to(real_root):
                    # Whoever can write into a shared folder must not pull in files from
                    # elsewhere on the server (e.g. a link named notes.txt to a secret).
                    failed.append(
                        FailedFile(
                            source=display_source(path, base),
                            error=f"symbolic link out of {display_source(root, base)} "
                            "(not followed)",
                        )
                    )
                    continue
            except (OSError, RuntimeError) as exc:  # RuntimeError: Path.resolve on a loop
                failed.append(FailedFile(source=display_source(path, base), error=str(exc)))
                continue
            if is_dir:
                subdirs.append(path)
            else:
                yield path
        stack.extend(reversed(subdirs))
