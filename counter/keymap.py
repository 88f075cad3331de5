"""The numeric-keypad key map: key codes to key names, key names to actions, and its help text.

SDL reports the keypad keys as numpad codes whether NumLock is on or off, so the map works
either way; the same symbols on a full keyboard do the same thing.
"""

from __future__ import annotations

# Kivy (SDL2) key codes.
KEY_NAMES: dict[int, str] = {
    271: "enter", 13: "enter",
    270: "+", 43: "+",
    269: "-", 45: "-",
    268: "*", 42: "*",
    267: "/", 47: "/",
    266: ".", 46: ".", 127: ".",  # the keypad's "." is "Del" with NumLock off
    27: "esc",
    8: "backspace",
    9: "tab",
    **{256 + n: str(n) for n in range(10)},  # numpad 0-9
    **{48 + n: str(n) for n in range(10)},   # the top-row digits
}

# Key -> action on the main screen. Dialog keys are the same in every dialog (below).
MAIN_KEYS: dict[str, str] = {
    "enter": "next",
    "+": "recall",
    "*": "done",
    "-": "no_show",
    "/": "pause_resume",
    "7": "transfer",
    "8": "refuse",
    "9": "call",
    "4": "verify",
}

# Shown on the buttons: what to press, as printed on the keys.
KEY_CAPS: dict[str, str] = {"enter": "Enter", "+": "+", "*": "*", "-": "−", "/": "/",
                            "7": "7", "8": "8", "9": "9", "4": "4", ".": "Del", "esc": "Esc"}

DIALOG_KEYS: tuple[tuple[str, str, str], ...] = (
    ("0 … 9", "chọn mục / gõ số", "choose an item / type the number"),
    ("+  −", "mục (chữ) sau / trước", "next / previous item (letter)"),
    ("Enter", "xác nhận, gửi lệnh", "confirm and send"),
    ("Del (.)  Esc", "huỷ, quay lại", "cancel, go back"),
    ("Backspace", "xoá chữ số cuối", "delete the last digit"),
)

DOUBLE_PRESS_S = 0.8  # a second press of the same action this soon is a bounce, not a wish


def key_name(code: int) -> str | None:
    return KEY_NAMES.get(code)


def key_for(action: str) -> str:
    """The key cap of a main-screen action ("Enter", "+", ...)."""
    for key, name in MAIN_KEYS.items():
        if name == action or (action in ("pause", "resume") and name == "pause_resume"):
            return KEY_CAPS[key]
    return ""


def markdown() -> str:
    """The key map as README text; the screen shows the same map on its buttons and help line."""
    from counter.texts import ACTIONS

    rows = []
    for key, action in MAIN_KEYS.items():
        if action == "pause_resume":
            vi, en = "Tạm dừng / Tiếp tục", "Pause / Resume"
        else:
            vi, en = ACTIONS[action].vi, ACTIONS[action].en
        asks = {"no_show": " (hỏi lại một lần / asks once)",
                "transfer": " (chọn nơi chuyển / choose where)",
                "refuse": " (chọn lý do, hướng dẫn / reason and guidance)",
                "call": " (gõ số / type the number)",
                "verify": " (CCCD gắn chíp, vân tay: đã xác minh hay không, lý do / chip ID, "
                          "fingerprint: verified or not, why)"}.get(action, "")
        rows.append(f"| `{KEY_CAPS[key]}` | {vi} | {en}{asks} |")
    dialog = [f"| `{k}` | {vi} | {en} |" for k, vi, en in DIALOG_KEYS]
    return "\n".join([
        "### Counter terminal: the numeric keypad",
        "",
        "`motcua counter --config office.toml --counter 1` opens the terminal of counter 1. "
        "Every button works from a USB numeric keypad (NumLock on or off); each button shows "
        "its key.",
        "",
        "| key | màn hình chính | main screen |",
        "|---|---|---|",
        *rows,
        "",
        "In the dialogs (Chuyển, Từ chối, Gọi số, confirmations):",
        "",
        "| key | hộp thoại | dialog |",
        "|---|---|---|",
        *dialog,
        "",
        "Gọi số: `+`/`−` choose the letter (A, B, H...), digits type the number (`12` is "
        "A012), Enter calls it. Từ chối: a digit picks the reason; the guidance is prefilled "
        "and can be edited on a keyboard (Tab).",
        "",
        "Each press is one command with its own id, resent with that same id until the "
        "dispatcher answers, so a lost link or a dispatcher restart never calls two "
        "citizens. While a command waits for its reply every key is ignored; a key held "
        f"down, or pressed twice within {DOUBLE_PRESS_S:g} s, counts once. A red line at the "
        "top says plainly when the broker or the dispatcher is gone; the buttons lock while "
        "the broker is unreachable. Error replies are shown in Vietnamese and English where "
        "the command was given (the dialog or the line above the buttons).",
    ])
