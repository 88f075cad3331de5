"""The systemd units `motcua install` writes: one service per role, run as the `motcua` user,
restarted on failure, started at boot, logging to the journal, hardened.

Kiosk, counter and board run full screen under `cage`, a Wayland compositor that shows one
application and nothing else (docs/install.md says why cage and not an X session)."""

from __future__ import annotations

from dataclasses import dataclass

USER = "motcua"
ETC = "/etc/motcua"
VAR = "/var/lib/motcua"
OFFICE = f"{ETC}/office.toml"
CAGE = "/usr/bin/cage"
MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_DIR = "/etc/mosquitto/motcua"  # `motcua broker setup --out` on the server
NOFILE = 65536  # broker_config.setup.NOFILE: an open file per connection
VT = "tty1"  # the screen of a kiosk, counter or board
BACKUP_AT = "*-*-* 18:30:00"  # after the hall closes (16:30 by default), every day
# A crash is retried after 5 s; ten starts in five minutes and systemd gives up (a unit
# that fails at every start, e.g. on a damaged database, says so once in `systemctl
# status` rather than filling the journal).
RESTART = ("Restart=on-failure", "RestartSec=5")
START_LIMIT = ("StartLimitIntervalSec=300", "StartLimitBurst=10")

# For every motcua service. Not here, by role: PrivateDevices (the apps need the GPU,
# camera, touchscreen, sound and printer), MemoryDenyWriteExecute (Mesa's shader compiler).
HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    f"ReadWritePaths={VAR}",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
    "UMask=0027",
)
HEADLESS = ("PrivateDevices=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6")
HOME = (f"WorkingDirectory={VAR}", f"Environment=HOME={VAR}",
        f"Environment=XDG_CACHE_HOME={VAR}/cache")


@dataclass(frozen=True)
class Unit:
    name: str
    text: str


def _unit(description: str, unit: list[str], service: list[str], install: list[str]) -> str:
    lines = ["# Written by `motcua install`; re-run it rather than editing this file.",
             "[Unit]", f"Description={description}", *unit, ""]
    lines += [f"[{'Timer' if description.endswith('timer') else 'Service'}]", *service, ""]
    lines += ["[Install]", *install] if install else []
    return "\n".join(lines).rstrip("\n") + "\n"


def _journal(name: str) -> list[str]:
    return ["StandardOutput=journal", "StandardError=journal", f"SyslogIdentifier={name}"]


def _daemon(name: str, description: str, after: str, command: str, stop_s: int,
            extra: tuple[str, ...] = ()) -> Unit:
    """A headless service of the server that restarts on failure and starts at boot."""
    return Unit(f"{name}.service", _unit(
        description, [f"Wants=network-online.target {after}",
                      f"After=network-online.target {after}", *START_LIMIT],
        ["Type=simple", f"User={USER}", f"Group={USER}", f"ExecStart={command}", *extra,
         *RESTART, f"TimeoutStopSec={stop_s}", *HOME, *_journal(name), *HARDENING,
         *HEADLESS],
        ["WantedBy=multi-user.target"]))


def dispatcher(motcua: str, office_id: str) -> Unit:
    return _daemon("motcua-dispatcher", f"motcua dispatcher of office {office_id}",
                   "mosquitto.service", f"{motcua} dispatcher --config {OFFICE}", 30)


def web(motcua: str, office_id: str) -> Unit:
    """The browser pages' server: its own office file (its own broker account)."""
    return _daemon("motcua-web", f"motcua web pages of office {office_id}",
                   "motcua-dispatcher.service", f"{motcua} web --config {ETC}/web.toml", 15,
                   # a socket per open page: systemd's default of 1,024 would refuse phones
                   # long before [web] phones (2,000) does
                   (f"LimitNOFILE={NOFILE}",))


def backup(motcua: str, office_id: str) -> list[Unit]:
    """A oneshot (no Restart=: the timer's Persistent= runs a missed one at the next boot)."""
    service = Unit("motcua-backup.service", _unit(
        f"motcua daily backup of office {office_id}",
        ["After=motcua-dispatcher.service"],
        ["Type=oneshot", f"User={USER}", f"Group={USER}",
         f"ExecStart={motcua} backup --config {OFFICE}", *HOME, *_journal("motcua-backup"),
         "Nice=10", "IOSchedulingClass=idle", *HARDENING, *HEADLESS], []))
    timer = Unit("motcua-backup.timer", _unit(
        f"motcua daily backup of office {office_id}, timer",
        [],
        [f"OnCalendar={BACKUP_AT}", "Persistent=true", "RandomizedDelaySec=15min",
         "Unit=motcua-backup.service"],
        ["WantedBy=timers.target"]))
    return [service, timer]


def mosquitto_drop_in() -> str:
    """Debian's own mosquitto.service (Type=notify, /run/mosquitto, drops to the mosquitto
    user) pointed at the production config, with the open files it needs. Same path as the
    drop-in `motcua broker setup` writes, which this one includes."""
    return "\n".join([
        "# Written by `motcua install server`: Debian's mosquitto.service runs the office's",
        f"# production broker ({MOSQUITTO_DIR}, from `motcua broker setup`).",
        "[Unit]", *START_LIMIT, "",
        "[Service]", "ExecStart=", f"ExecStart={MOSQUITTO} -c {MOSQUITTO_DIR}/mosquitto.conf",
        f"LimitNOFILE={NOFILE}", *RESTART,
        # Mosquitto starts as root and drops to its user: no NoNewPrivileges worries, but
        # it writes /var/lib/mosquitto, /var/log/mosquitto and /run/mosquitto, so "full"
        # (read-only /usr, /boot, /etc) rather than "strict".
        "ProtectSystem=full", "ProtectHome=yes", "PrivateTmp=yes", "ProtectKernelTunables=yes",
        "ProtectControlGroups=yes", ""])


# The PAM service of the screen units: a logind session on seat0 (tty1), so cage gets the
# GPU and input devices from logind and the session's devices (uaccess) are the motcua
# user's. systemd itself never asks for a password (it runs account and session only).
PAM = ("# Written by `motcua install`: the login session of the full-screen motcua app.\n"
       "auth     required pam_unix.so nullok\n"
       "account  required pam_unix.so\n"
       "session  required pam_unix.so\n"
       "session  required pam_systemd.so\n")
PAM_NAME = "motcua"

SCREEN_ENV = (
    # Kivy reads KCFG_<section>_<key>: no mouse pointer over the app (a touchscreen kiosk,
    # a wall board), its settings and logs in /var/lib/motcua (logs go to the journal too).
    "Environment=KCFG_GRAPHICS_SHOW_CURSOR=0",
    f"Environment=KIVY_HOME={VAR}/kivy",
    "Environment=KIVY_NO_ARGS=1",
    # cage starts Xwayland too: SDL2 uses Wayland or X, whichever its build has. Nothing
    # blanks the screen under cage (no idle daemon), and SDL2 inhibits idling anyway.
)


def screen(role: str, motcua: str, args: str, office_id: str) -> Unit:
    """The app of a kiosk, counter or board on tty1 under cage, instead of a login prompt."""
    name = f"motcua-{role}"
    return Unit(f"{name}.service", _unit(
        f"motcua {role} of office {office_id}, full screen (cage on {VT})",
        ["After=systemd-user-sessions.service plymouth-quit-wait.service "
         f"getty@{VT}.service network-online.target",
         "Wants=network-online.target", f"Conflicts=getty@{VT}.service",
         "ConditionPathExists=/dev/tty0", *START_LIMIT],
        ["Type=simple", f"User={USER}", f"Group={USER}", f"PAMName={PAM_NAME}",
         f"TTYPath=/dev/{VT}", "TTYReset=yes", "TTYVHangup=yes", "TTYVTDisallocate=yes",
         "StandardInput=tty-fail", *_journal(name), f"UtmpIdentifier={VT}", "UtmpMode=user",
         # -d: no window decorations. No -s: nobody switches to a text console from here.
         f"ExecStart={CAGE} -d -- {motcua} {role} --config {OFFICE} {args} --fullscreen",
         *RESTART, *HOME, *SCREEN_ENV, *HARDENING,
         # logind mounts the session's XDG_RUNTIME_DIR (/run/user/UID, cage's Wayland
         # socket) under /run, which ProtectSystem=strict makes read-only.
         "ReadWritePaths=-/run/user",
         "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
        ["WantedBy=multi-user.target"]))
