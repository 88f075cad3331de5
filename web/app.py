"""`motcua web`: the browser pages of one office (board, counter, ticket, hall)."""

from __future__ import annotations

import argparse
import logging
import resource
import ssl
from pathlib import Path

from motcua import config as office_config
from motcua.errors import UsageError
from motcua.mqtt import BrokerAddress


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua web", description="The browser pages: /board, "
                                "/counter, /hall and the citizen's ticket (/t/...).")
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--broker", help="broker URL; overrides [broker].url")
    p.add_argument("--listen", help="host:port; overrides [web] listen")
    p.add_argument("--cache", type=Path, help="voice cache folder (~/.cache/motcua/voice)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    return p


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen {text!r}: phải có dạng máy:cổng, ví dụ 0.0.0.0:8080",
                         f"--listen {text!r}: must look like host:port, e.g. 0.0.0.0:8080")
    return host.strip("[]"), int(port)


def check(args: argparse.Namespace) -> tuple[office_config.OfficeConfig, str, tuple[str, int]]:
    office = office_config.load(args.config)
    url = args.broker or office.broker.url
    try:
        BrokerAddress.parse(url)
    except ValueError as exc:
        raise UsageError(f"--broker {url!r}: địa chỉ máy chủ MQTT không hợp lệ (ví dụ "
                         "mqtt://host:1883)", f"--broker {url!r}: must look like "
                         "mqtt://host:1883") from exc
    listen = _listen(args.listen or office.web.listen)
    w = office.web
    for path in (w.cert_file, w.key_file):
        if path is not None and not path.is_file():
            raise UsageError(f"[web]: không có tệp {path}", f"[web]: no file {path}")
    if w.cert_file and w.key_file:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                w.cert_file, w.key_file)
        except (ssl.SSLError, OSError) as exc:
            raise UsageError(f"[web]: chứng chỉ hoặc khóa không dùng được: {exc}",
                             f"[web]: the certificate or key cannot be used: {exc}") from exc
    return office, url, listen


def room_for_pages(office: office_config.OfficeConfig) -> int:
    """Raise this process's soft limit of open files to what its pages may need (a socket
    each: `[web] phones`, the boards, staff and the broker), up to the hard limit; say so in
    both languages when that stays short. The soft limit it has now."""
    from web.server import BOARDS

    need = office.web.phones + BOARDS + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        if soft < need:
            logging.getLogger(__name__).warning(
                "chỉ mở được %d tệp, cần %d cho [web] phones = %d: điện thoại thêm sẽ bị từ "
                "chối (LimitNOFILE) / only %d open files, %d needed for [web] phones = %d: "
                "more phones will be refused (LimitNOFILE)", soft, need, office.web.phones,
                soft, need, office.web.phones)
    return int(soft)


def make(office: office_config.OfficeConfig, url: str, cache: Path | None = None):  # type: ignore[no-untyped-def]
    """The ASGI app of one office (the hub starts with it)."""
    from web.audio import Sounds
    from web.hub import Hub
    from web.server import Web, build_app

    web = Web(office, Hub(office, url), Sounds.for_office(office.display, cache))
    return build_app(web), web


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    office, url, (host, port) = check(args)
    import uvicorn

    room_for_pages(office)
    app, _ = make(office, url, args.cache)
    w = office.web
    tls = bool(w.cert_file and w.key_file)
    scheme = "https" if tls else "http"
    logging.getLogger(__name__).info("motcua web for %s on %s://%s:%s (broker %s)", office.id,
                                     scheme, host, port, url)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws="websockets-sansio",
                ws_max_size=65536,  # a page sends presses of a few hundred bytes
                ws_ping_interval=None, proxy_headers=False, server_header=False,
                ssl_certfile=str(w.cert_file) if tls else None,
                ssl_keyfile=str(w.key_file) if tls else None)
    return 0
