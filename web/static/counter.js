"use strict";
// The counter page: every action of the Kivy terminal, the same numeric-keypad keys. One
// command id per press, resent with that id until the dispatcher answers; while it waits
// every key is ignored. The counter is the session's: the server refuses anything else.
(() => {
  Motcua.initLang();
  const $ = (id) => document.getElementById(id);
  const esc = Motcua.esc;
  const both = (vi, en) => `<span class="vi">${esc(vi)}</span><span class="en">${esc(en)}</span>`;
  let view = null, conn = null, pending = null, lastPress = {act: "", at: 0}, dialog = null;

  function newId() {
    const b = new Uint8Array(12); crypto.getRandomValues(b);
    return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function say(vi, en, kind) {
    const m = $("msg"); m.className = "msg " + (kind || ""); m.innerHTML = both(vi, en);
    document.body.dataset.msg = kind || "";
  }
  function errorOf(r) { const e = r.error || {}; return [e.message || "Lỗi", e.message_en || "Error", e.code || ""]; }

  // -- sign-in -------------------------------------------------------------------------
  async function showSignIn(why) {
    $("main").hidden = true; $("signin").hidden = false;
    document.body.dataset.screen = "signin";
    const r = await fetch("/counter/counters"); const info = await r.json();
    $("signin-office").textContent = info.office;
    const sel = $("si-counter");
    if (!sel.options.length) sel.innerHTML = info.counters.map(c => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join("");
    const q = new URLSearchParams(location.search).get("counter");
    if (q) sel.value = q;
    if (!info.officers) {
      $("signin-error").innerHTML = both("Đơn vị chưa khai báo cán bộ ([[officers]] trong office.toml): trang quầy cần cán bộ đăng nhập.",
        "This office lists no officers ([[officers]] in office.toml): the counter page needs an officer to sign in.");
    } else if (why) $("signin-error").innerHTML = both(why[0], why[1]);
    $("si-officer").focus();
  }
  $("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("signin-error").textContent = "";
    const body = {counter: $("si-counter").value, officer: $("si-officer").value.trim(), pin: $("si-pin").value};
    let r;
    try {
      r = await fetch("/counter/sign-in", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    } catch (e) { $("signin-error").innerHTML = both("Mất kết nối", "Connection lost"); return; }
    const data = await r.json();
    $("si-pin").value = "";
    if (!data.ok) { const [vi, en] = errorOf(data); $("signin-error").innerHTML = both(vi, en); document.body.dataset.error = data.error.code; return; }
    start();
  });
  $("signout").addEventListener("click", async () => {
    const r = await fetch("/counter/sign-out", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    const data = await r.json();
    if (!data.ok) { const [vi, en] = errorOf(data); say(vi, en, "bad"); return; }
    location.reload();
  });

  // -- the counter -----------------------------------------------------------------------
  function draw(v) {
    view = v;
    $("signin").hidden = true; $("main").hidden = false;
    document.body.dataset.screen = "counter";
    document.body.dataset.status = v.status;
    $("cname").textContent = v.counter_name;
    $("who").textContent = v.officer ? v.officer.name : "";
    const st = {open: ["Đang mở", "Open"], paused: ["Tạm dừng", "Paused"], closed: ["Đóng", "Closed"], unknown: ["…", "…"]}[v.status] || [v.status, v.status];
    $("cstatus").className = "pill " + v.status; $("cstatus").innerHTML = both(st[0], st[1]);
    const c = v.current;
    $("current").textContent = c ? c.number : "—";
    $("current").dataset.ticket = c ? c.number : "";
    $("curinfo").innerHTML = c ? both(
        `${c.service[0]} · gọi lúc ${c.called_at}${c.priority ? " · ƯU TIÊN" : ""}${c.transferred ? " · được chuyển đến" : ""}${c.booking ? " · hẹn " + c.booking.start + "–" + c.booking.end : ""}`,
        `${c.service[1]} · called ${c.called_at}${c.priority ? " · PRIORITY" : ""}${c.transferred ? " · transferred in" : ""}${c.booking ? " · booked " + c.booking.start + "–" + c.booking.end : ""}`) : "";
    $("waiting").textContent = v.waiting;
    $("nextlist").textContent = v.next.length ? "→ " + v.next.join(", ") : "";
    const paused = v.status === "paused";
    $("pausebtn").innerHTML = "<kbd>/</kbd>" + (paused ? both("Tiếp tục", "Resume") : both("Tạm dừng", "Pause"));
    for (const b of document.querySelectorAll("#buttons button")) {
      const a = b.dataset.act;
      const needsCurrent = ["recall", "done", "no_show", "transfer", "refuse"].includes(a);
      b.disabled = !v.online || !!pending || (needsCurrent && !c) || (paused && (a === "next" || a === "call"));
    }
    if (!v.mine && v.officer) say("Đã có cán bộ khác đăng nhập tại quầy này.", "Another officer signed in at this counter.", "bad");
  }

  function press(type, fields) {
    if (pending) return false;  // one command at a time, as the terminal
    pending = {id: newId(), type, fields: fields || {}, sent: 0};
    send();
    if (view) draw(view);
    say("Đang gửi…", "Sending…", "");
    return true;
  }
  function send() {
    if (!pending || !conn) return;
    if (conn.send({id: pending.id, type: pending.type, ...pending.fields})) pending.sent = Date.now();
  }
  setInterval(() => { if (pending && Date.now() - pending.sent > 2500) send(); }, 500);  // same id

  function onReply(r) {
    if (!pending || r.id !== pending.id) return;
    if (r.pending) { say(r.error.message, r.error.message_en, ""); return; }  // resent, same id
    const p = pending; pending = null;
    window.__replies = (window.__replies || []).concat([{id: r.id, type: p.type, ok: r.ok, code: r.error && r.error.code}]);
    if (r.ok) {
      const n = r.ticket ? r.ticket.number : (view && view.current ? view.current.number : "");
      const texts = {
        next: r.ticket ? [`Đã gọi số ${n}.`, `Called ${n}.`] : ["Không còn ai chờ ở quầy này.", "Nobody is waiting for this counter."],
        call: [`Đã gọi số ${n}.`, `Called ${n}.`], recall: [`Đã gọi lại số ${n}.`, `Recalled ${n}.`],
        done: ["Đã xong.", "Done."], no_show: ["Đã ghi vắng mặt.", "Marked as no-show."],
        transfer: ["Đã chuyển.", "Transferred."], refuse: ["Đã từ chối, có hướng dẫn.", "Refused, with guidance."],
        pause: ["Quầy tạm dừng.", "Counter paused."], resume: ["Quầy tiếp tục nhận khách.", "Counter resumed."],
      }[p.type] || ["Xong.", "Done."];
      say(texts[0], texts[1], "ok");
      closeDialog();
    } else {
      const [vi, en, code] = errorOf(r);
      document.body.dataset.error = code;
      if (code === "signed_out" || code === "not_signed_in") { showSignIn([vi, en]); return; }
      if (dialog) { $("dlgerr").innerHTML = both(vi, en); } else say(vi, en, "bad");
    }
    if (view) draw(view);
  }

  // -- dialogs: transfer, refuse, call a number, no-show confirmation -----------------------
  function openDialog(kind) {
    const v = view; if (!v) return;
    dialog = {kind, sel: 0, items: [], letter: 0, digits: ""};
    $("dlgerr").textContent = "";
    let title, body = "";
    if (kind === "transfer") {
      title = ["Chuyển số " + (v.current ? v.current.number : ""), "Transfer " + (v.current ? v.current.number : "")];
      dialog.items = [...v.services.map(s => ({service: s.code, vi: "Dịch vụ: " + s.name, en: "Service: " + s.name_en})),
                      ...v.counters.map(c => ({counter: c.id, vi: "Quầy: " + c.name, en: "Counter: " + c.name.replace("Quầy", "Counter")}))];
    } else if (kind === "refuse") {
      title = ["Từ chối: chọn lý do", "Refuse: choose a reason"];
      dialog.items = v.reasons.map(r => ({reason: r.typed ? "" : r.text, guidance: r.guidance, typed: r.typed, vi: r.text, en: r.text}));
      body = `<label>${both("Lý do", "Reason")}<input id="reason" maxlength="500"></label>` +
             `<label>${both("Hướng dẫn cho công dân", "Guidance for the citizen")}<textarea id="guidance" maxlength="500"></textarea></label>`;
    } else if (kind === "call") {
      title = ["Gọi số", "Call a number"];
      dialog.letters = [...new Set(v.services.map(s => s.code))];
      body = `<div class="callnum" id="callnum"></div><input id="callinput" maxlength="12" placeholder="A012" autocomplete="off">`;
    } else if (kind === "no_show") {
      title = [`Xác nhận số ${v.current.number} vắng mặt?`, `Confirm ${v.current.number} is not present?`];
    }
    $("dlgtitle").innerHTML = both(title[0], title[1]);
    $("dlgbody").innerHTML = (dialog.items.length ? "<ol id='items'>" + dialog.items.map((it, i) =>
      `<li data-i="${i}"><kbd>${i + 1}</kbd> ${both(it.vi, it.en)}</li>`).join("") + "</ol>" : "") + body;
    for (const li of document.querySelectorAll("#items li")) li.addEventListener("click", () => choose(+li.dataset.i));
    $("dlg").showModal();
    if (kind === "refuse") choose(0);
    else if (kind === "transfer") choose(0);
    else if (kind === "call") { $("callinput").focus(); }
    document.body.dataset.dialog = kind;
  }
  function choose(i) {
    if (!dialog || i < 0 || i >= dialog.items.length) return;
    dialog.sel = i;
    document.querySelectorAll("#items li").forEach((li, j) => li.classList.toggle("sel", j === i));
    if (dialog.kind === "refuse") {
      const it = dialog.items[i];
      $("reason").value = it.reason; $("guidance").value = it.guidance;
      if (it.typed) $("reason").focus();
    }
  }
  function closeDialog() { if ($("dlg").open) $("dlg").close(); dialog = null; delete document.body.dataset.dialog; }
  function confirmDialog() {
    if (!dialog) return;
    const k = dialog.kind;
    if (k === "transfer") { const it = dialog.items[dialog.sel]; press("transfer", it.service ? {service: it.service} : {counter: it.counter}); }
    else if (k === "refuse") {
      const reason = $("reason").value.trim(), guidance = $("guidance").value.trim();
      if (!reason) { $("dlgerr").innerHTML = both("Hãy ghi lý do.", "Write the reason."); return; }
      press("refuse", guidance ? {reason, guidance} : {reason});
    } else if (k === "call") {
      const t = $("callinput").value.trim().toUpperCase();
      if (!t) return;
      press("call", {ticket: t.replace(/^([A-Z]+)(\d{1,2})$/, (m, l, d) => l + d.padStart(3, "0"))});
    } else if (k === "no_show") press("no_show");
  }
  $("dlgform").addEventListener("submit", (ev) => { ev.preventDefault(); confirmDialog(); });
  $("dlgcancel").addEventListener("click", closeDialog);
  $("dlg").addEventListener("cancel", (ev) => { ev.preventDefault(); closeDialog(); });

  function act(a) {
    if (!view || pending) return;
    const b = document.querySelector(`#buttons button[data-act="${a}"]`);
    if (b && b.disabled) { say("Không dùng được lúc này.", "Not available now.", "bad"); return; }
    if (a === lastPress.act && Date.now() - lastPress.at < 800) return;  // a bounce
    lastPress = {act: a, at: Date.now()};
    if (a === "pause_resume") press(view.status === "paused" ? "resume" : "pause");
    else if (["transfer", "refuse", "call", "no_show"].includes(a)) openDialog(a);
    else press(a);
  }
  for (const b of document.querySelectorAll("#buttons button")) b.addEventListener("click", () => act(b.dataset.act));
  const KEYS = {"Enter": "next", "+": "recall", "*": "done", "-": "no_show", "/": "pause_resume", "7": "transfer", "8": "refuse", "9": "call"};
  document.addEventListener("keydown", (ev) => {
    if (!$("signin").hidden) return;
    const typing = ev.target && ["INPUT", "TEXTAREA"].includes(ev.target.tagName);
    if (dialog) {
      if (ev.key === "Escape" || (ev.key === "Delete" || (ev.code === "NumpadDecimal" && !typing))) { ev.preventDefault(); closeDialog(); }
      else if (ev.key === "Enter" && ev.target.tagName !== "TEXTAREA") { ev.preventDefault(); confirmDialog(); }
      else if (!typing && /^[1-9]$/.test(ev.key) && dialog.items.length) { ev.preventDefault(); choose(+ev.key - 1); }
      else if (!typing && (ev.key === "+" || ev.key === "-") && dialog.items.length) { ev.preventDefault(); choose(dialog.sel + (ev.key === "+" ? 1 : -1)); }
      return;
    }
    if (typing) return;
    const a = KEYS[ev.key];
    if (a) { ev.preventDefault(); act(a); }
  });

  function start() {
    if (conn) { location.reload(); return; }
    conn = Motcua.connect("/ws/counter", (m) => {
      if (m.type === "counter") draw(m);
      else if (m.type === "reply") onReply(m);
    }, {onRefused: () => { conn = null; showSignIn(null); }});
  }
  start();
})();
