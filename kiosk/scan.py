"""`motcua scan IMAGE...`: what each image's QR codes hold; a field check for kiosk cameras."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

from kiosk.camera import CameraError, read_image
from kiosk.precheck import looks_like_token, precheck
from kiosk.qr import DECODERS, DEFAULT, make_decoder
from kiosk.texts import NOTICES
from motcua.config import OfficeConfig, load
from motcua.errors import UsageError, run_main


def claims_of(token: str) -> dict:
    """The claims of a compact JWS, unverified: only to show what a code says."""
    payload = token.split(".")[1]
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}


def describe(text: str, office: OfficeConfig | None, today: date | None) -> str:
    if not looks_like_token(text):
        return "  không phải mã lịch hẹn motcua / not a motcua booking code"
    c = claims_of(text)
    line = (f"  lịch hẹn / booking {c.get('jti')} · office {c.get('aud')} · service "
            f"{c.get('svc')} · {c.get('start')} – {c.get('end')}")
    if office is None:
        return line + ("\n  (chữ ký chưa kiểm tra: thêm --config / "
                       "signature not checked: add --config)")
    verdict = precheck(text, office)
    if verdict.code is None:
        ok = "hợp lệ / valid" if verdict.booking else "khóa lạ, để bộ điều phối xét / unknown key"
        line += f"\n  chữ ký / signature: {ok}"
        day = verdict.booking.start.astimezone(office.tz).date() if verdict.booking else None
        if today is not None and day is not None and day != today:
            line += (f"\n  hẹn ngày {day}, không phải {today}: bộ điều phối quyết định (lịch "
                     f"đã dời vẫn giữ mã cũ) / dated {day}, not {today}: the dispatcher "
                     f"decides (a moved booking keeps its code)")
        return line
    notice = NOTICES.get(verdict.code)
    why = f"{notice.title[0]} / {notice.title[1]}" if notice else verdict.code
    return line + f"\n  {why} ({verdict.code})"


def main(argv: list[str] | None = None) -> int:
    """0: every image held a readable code; 1: some did not. Bad arguments, a bad office
    file or a missing decoder: a MotcuaError (exit code 2)."""
    p = argparse.ArgumentParser(prog="motcua scan", description=__doc__)
    p.add_argument("images", nargs="+", type=Path, help="image files (PNG, JPEG, ...)")
    p.add_argument("--decoder", default=DEFAULT, choices=sorted(DECODERS))
    p.add_argument("--all-decoders", action="store_true", help="compare every decoder")
    p.add_argument("--config", help="office.toml: also check each token's signature")
    p.add_argument("--today", help="judge booking dates as of this day (YYYY-MM-DD)")
    args = p.parse_args(argv)
    office = load(args.config) if args.config else None
    try:
        today = date.fromisoformat(args.today) if args.today else (
            datetime.now(office.tz).date() if office else None)
    except ValueError:
        raise UsageError(f"--today {args.today!r} phải là YYYY-MM-DD",
                         f"--today {args.today!r} must be YYYY-MM-DD") from None
    decoders = [make_decoder(n) for n in (sorted(DECODERS) if args.all_decoders
                                          else [args.decoder])]
    failed = 0
    for path in args.images:
        try:
            gray = read_image(path)
        except CameraError as exc:
            print(f"{path}: {exc.message} / {exc.message_en}")
            failed += 1
            continue
        print(f"{path}: {gray.shape[1]}x{gray.shape[0]}")
        found: list[str] = []
        for decoder in decoders:
            t0 = time.perf_counter()
            seen = decoder.decode(gray)
            ms = (time.perf_counter() - t0) * 1000
            texts = [s.text for s in seen if s.text]
            if not seen:
                print(f"  [{decoder.name} {ms:.1f} ms] không thấy mã QR / no QR code found")
            elif not texts:
                print(f"  [{decoder.name} {ms:.1f} ms] thấy mã nhưng không đọc được / "
                      "a code is there but cannot be read")
            for text in dict.fromkeys(texts):
                shown = text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"
                print(f"  [{decoder.name} {ms:.1f} ms] {len(text)} ký tự / chars: {shown}")
                found += [text] if text not in found else []
        for text in found:
            print(describe(text, office, today))
        failed += not found
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main(main, "motcua scan"))
