"""A Mosquitto bridge from an office's broker to a central MQTT cluster: events, state and
presence go up under the office's own prefix, commands and replies never leave the office."""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path
from urllib.parse import urlparse

from broker_config.accounts import SetupError, hash_passwords, share_with_broker
from broker_config.pki import write_private
from motcua import config, topics


# The branches of the office tree that central dashboards need. Commands (cmd/) and
# replies (reply/) are absent on purpose: nobody at the centre may change a queue, and a
# reply can carry a citizen's booking.
def forwarded(office: str) -> list[str]:
    prefix = local_prefix(office)
    return [t[len(prefix):] for t in (
        _under(topics.event_call(office)), _under(topics.state_config(office)),
        _under(topics.presence(office, "dispatcher", "main")))]


def _under(topic: str) -> str:
    return "/".join([*topic.split("/")[:3], "#"])


def local_prefix(office: str) -> str:
    return "/".join(topics.state_config(office).split("/")[:2]) + "/"


def central_username(office: str) -> str:
    return f"office-{office}"


def render(office: str, central_url: str, password: str, ca_file: str | None = None,
           remote_prefix: str | None = None, mosquitto_central: bool = False) -> str:
    """One `connection` block for mosquitto.conf (put it in the broker's conf.d/)."""
    u = urlparse(central_url)
    if u.scheme not in ("mqtt", "mqtts") or not u.hostname:
        raise SetupError(f"địa chỉ trung tâm {central_url!r} phải có dạng mqtts://host:8883",
                         f"central address {central_url!r} must look like mqtts://host:8883")
    port = u.port or (8883 if u.scheme == "mqtts" else 1883)
    local = local_prefix(office)
    remote = remote_prefix if remote_prefix is not None else local
    if remote and not remote.endswith("/"):
        remote += "/"
    lines = [
        f"# Bridge of motcua office {office} to the central cluster at {u.hostname}:{port}.",
        "# Forwards events, state and presence (never commands or replies) under",
        f"# {remote or '(no prefix)'} with an account that may publish only there.",
        f"connection motcua-{office}-central",
        f"address {u.hostname}:{port}",
        "bridge_protocol_version mqttv50",
        f"remote_clientid bridge-{office}",
        f"remote_username {central_username(office)}",
        f"remote_password {password}",
        # A persistent session at the centre: events queued while the link is down go up
        # when it comes back (the office keeps working either way).
        "cleansession false",
        "local_cleansession false",
        # try_private is a Mosquitto extension; EMQX and HiveMQ do not know it.
        f"try_private {'true' if mosquitto_central else 'false'}",
        "notifications false",
        "keepalive_interval 30",
        "restart_timeout 2 30",
        "start_type automatic",
    ]
    if u.scheme == "mqtts":
        lines += [f"bridge_cafile {ca_file or '/etc/ssl/certs/ca-certificates.crt'}",
                  "bridge_insecure false"]
    lines += [f"topic {pattern} out 1 {local} {remote}" for pattern in forwarded(office)]
    return "\n".join(lines) + "\n"


def central_acl(office: str, remote_prefix: str | None = None) -> str:
    """For a Mosquitto at the centre: this office's bridge may publish under its prefix only."""
    remote = remote_prefix if remote_prefix is not None else local_prefix(office)
    if remote and not remote.endswith("/"):
        remote += "/"
    lines = [f"# Central ACL entry for office {office}: its bridge publishes only here.",
             f"user {central_username(office)}"]
    lines += [f"topic write {remote}{pattern}" for pattern in forwarded(office)]
    return "\n".join(lines) + "\n"


def write(office_id: str, out: Path, central_url: str, ca_file: str | None = None,
          remote_prefix: str | None = None, mosquitto_central: bool = False) -> Path:
    """The bridge in out/conf.d/ and what the centre needs in out/central/; the password
    is kept across runs so the centre's copy stays valid."""
    central = out / "central"
    user = central_username(office_id)
    pw_path = central / f"{user}.password"
    fresh = not pw_path.exists()
    password = secrets.token_urlsafe(24) if fresh else pw_path.read_text(
        encoding="utf-8").strip()
    # Render first: a mistake in the arguments leaves nothing half written.
    text = render(office_id, central_url, password, ca_file, remote_prefix, mosquitto_central)
    hashed = hash_passwords({user: password})
    if fresh:
        write_private(pw_path, password.encode() + b"\n")
    (central / f"{user}.passwd").write_text(hashed[user] + "\n", encoding="utf-8")
    (central / f"{user}.acl").write_text(central_acl(office_id, remote_prefix),
                                         encoding="utf-8")
    conf = out / "conf.d" / "bridge-central.conf"
    write_private(conf, text.encode(), 0o640)
    state = out / "setup-state.json"
    if state.exists():  # the broker re-reads conf.d as its own user on a reload
        share_with_broker(out, json.loads(state.read_text()).get("settings", {}).get(
            "user", "mosquitto"))
    return conf


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="motcua broker bridge", description=__doc__)
    p.add_argument("--config", required=True, help="the office file (office.toml)")
    p.add_argument("--central", required=True, help="central broker, mqtts://host:8883")
    p.add_argument("--central-ca", help="CA file that signed the central broker's certificate")
    p.add_argument("--remote-prefix", help="topic prefix at the centre (default motcua/<office>/)")
    p.add_argument("--mosquitto-central", action="store_true",
                   help="the centre runs Mosquitto too (turns on try_private)")
    p.add_argument("--out", help="the folder of `motcua broker setup` "
                                  "(default var/broker-<office>)")
    args = p.parse_args(argv)
    office = config.load(args.config)
    out = Path(args.out or f"var/broker-{office.id}")
    conf = write(office.id, out, args.central, args.central_ca, args.remote_prefix,
                 args.mosquitto_central)
    print(f"Bridge written to {conf}; reload the broker (kill -HUP <pid>) to start it.\n"
          f"At the centre, add {out}/central/{central_username(office.id)}.passwd to the "
          f"password file and {out}/central/{central_username(office.id)}.acl to the ACL "
          "(see broker_config/README.md for EMQX and HiveMQ).")
    return 0
