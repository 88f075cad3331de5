"""Backups of an office's database, taken while the dispatcher runs, and a careful restore.

`backup` uses SQLite's online backup on a read-only connection: a consistent copy of the
last commit, whatever the dispatcher is writing. The copy is checked (integrity, office)
before it counts, written beside its name and renamed, and the oldest copies beyond
`[storage] keep_backups` are removed. `restore` checks a copy before it replaces anything,
refuses while a dispatcher holds the database, and keeps the database it replaces.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from dispatcher.store import (
    SCHEMA_VERSION,
    AlreadyRunning,
    StoreError,
    backup_to,
    put_in_place,
    take_lock,
)
from motcua.config import OfficeConfig

log = logging.getLogger(__name__)

NAME = re.compile(r"^(?P<office>[a-z0-9-]{1,32})-(?P<at>\d{8}-\d{6})(?:-(?P<n>\d{1,3}))?"
                  r"\.sqlite3$")


class BackupError(StoreError):
    """A backup that cannot be taken, or a copy that must not be restored."""


def _check(copy: Path, office_id: str, force: bool = False) -> dict[str, object]:
    """What a copy holds, or BackupError when it is damaged, newer or another office's."""
    try:
        db = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"không mở được {copy}: {exc}", f"cannot open {copy}: {exc}") from exc
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            raise BackupError(f"bản sao {copy} bị hỏng ({rows[0][0]})",
                              f"the copy {copy} is damaged ({rows[0][0]})")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"tickets", "meta", "commands"} <= tables:
            raise BackupError(f"{copy} không phải cơ sở dữ liệu motcua",
                              f"{copy} is not a motcua database")
        version = int(db.execute("PRAGMA user_version").fetchone()[0]) or 1
        row = db.execute("SELECT value FROM meta WHERE key='office'").fetchone()
        tickets = db.execute("SELECT count(*), max(day) FROM tickets").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"bản sao {copy} bị hỏng: {exc}",
                          f"the copy {copy} is damaged: {exc}") from exc
    finally:
        db.close()
    if version > SCHEMA_VERSION:
        raise BackupError(f"{copy} do phiên bản motcua mới hơn tạo (lược đồ {version})",
                          f"{copy} was made by a newer motcua (schema {version})")
    if row is not None and row[0] != office_id:
        raise BackupError(f"{copy} là của đơn vị {row[0]}, không phải {office_id}",
                          f"{copy} belongs to office {row[0]}, not {office_id}")
    if row is None and not force:
        raise BackupError(
            f"{copy} không ghi mã đơn vị (bản cũ): chỉ khôi phục nếu chắc chắn, với --force",
            f"{copy} does not say which office it is (an old copy): restore it only if "
            f"you are sure, with --force")
    return {"version": version, "tickets": tickets[0], "last_day": tickets[1]}


def _copy_in_place(source: Path, target: Path) -> None:
    """`source` copied to `target` whole or not at all (no half copy left behind)."""
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, partial)
        put_in_place(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def backup(office: OfficeConfig, to: Path | None = None, now: datetime | None = None
           ) -> list[Path]:
    """A checked copy of the office's database in each backup folder; the paths written."""
    source = office.storage
    if not source.exists():
        raise BackupError(f"không có cơ sở dữ liệu {source}", f"no database at {source}")
    folders = [to] if to else [office.backups.folder or source.parent / "backups",
                               *([office.backups.copy_to] if office.backups.copy_to else [])]
    stamp = (now or datetime.now(office.tz)).strftime("%Y%m%d-%H%M%S")
    written: list[Path] = []
    try:
        db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error as exc:  # deleted, or made unreadable, since the check above
        raise BackupError(f"không mở được {source}: {exc}", f"cannot open {source}: {exc}"
                          ) from exc
    try:
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o750)
                target = _free_name(folder, office.id, stamp)
                if written:  # the same copy again, to the second place
                    _copy_in_place(written[0], target)
                else:
                    backup_to(db, target)
                _check(target, office.id, force=True)
            except (OSError, sqlite3.Error) as exc:
                raise BackupError(f"không sao lưu được vào {folder}: {exc}",
                                  f"cannot back up to {folder}: {exc}") from exc
            written.append(target)
            prune(folder, office.id, office.backups.keep, spare=target)
    finally:
        db.close()
    log.info("backed up %s to %s", source, ", ".join(map(str, written)))
    return written


def _free_name(folder: Path, office_id: str, stamp: str) -> Path:
    """`<office>-<stamp>.sqlite3`, or `-2`, `-3`... when a copy of that second is there: a
    second backup within a second (or after the clock went back) never replaces one."""
    target = folder / f"{office_id}-{stamp}.sqlite3"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{office_id}-{stamp}-{n}.sqlite3"
    return target


def _order(p: Path) -> tuple[str, int]:
    m = NAME.match(p.name)
    assert m is not None
    return m["at"], int(m["n"] or 1)


def prune(folder: Path, office_id: str, keep: int, spare: Path | None = None) -> list[Path]:
    """Remove this office's copies in `folder` beyond the newest `keep` (by the time in
    their names); the removed. `spare`, the copy just made, is never removed: after the
    clock went back its name is older than copies that are not."""
    mine = sorted((p for p in folder.iterdir()
                   if (m := NAME.match(p.name)) and m["office"] == office_id and p != spare),
                  key=_order, reverse=True)
    old = mine[max(keep - (spare is not None), 0):]
    for p in old:
        p.unlink()
    return old


def restore(office: OfficeConfig, copy: Path, force: bool = False,
            now: datetime | None = None) -> Path | None:
    """Put `copy` in place of the office's database; the replaced database kept beside it
    (its path, or None when there was none). Refused while a dispatcher holds it."""
    facts = _check(copy, office.id, force)
    target = office.storage
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = take_lock(target)
    except AlreadyRunning as exc:
        raise BackupError(
            f"Bộ điều phối đang chạy với {target}: dừng nó trước khi khôi phục.",
            f"A dispatcher is running on {target}: stop it before restoring.",
            detail=exc.message_en) from exc
    try:
        kept = None
        if target.exists():
            stamp = (now or datetime.now(office.tz)).strftime("%Y%m%d-%H%M%S")
            kept = target.with_name(f"{target.name}.replaced-{stamp}")
            # A consistent copy of what is there now (its -wal included); a database too
            # damaged for that is kept as its files are.
            try:
                current = sqlite3.connect(target)
                try:
                    backup_to(current, kept)
                finally:
                    current.close()
            except sqlite3.Error:
                for side in ("", "-wal", "-shm"):
                    if Path(f"{target}{side}").exists():
                        shutil.copyfile(f"{target}{side}", f"{kept}{side}")
            for side in ("", "-wal", "-shm"):
                Path(f"{target}{side}").unlink(missing_ok=True)
        _copy_in_place(copy, target)
    finally:
        os.close(lock)
    log.info("restored %s from %s (%s tickets, last day %s)", target, copy,
             facts["tickets"], facts["last_day"])
    return kept
