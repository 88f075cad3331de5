"use strict";
(() => {
  Motcua.initLang();
  const $ = (id) => document.getElementById(id);
  const esc = Motcua.esc;
  const both = (vi, en) => `<span class="vi">${esc(vi)}</span><span class="en">${esc(en)}</span>`;
  let conn = null;
  const ROLE = {dispatcher: ["Bộ điều phối", "Dispatcher"], kiosk: ["Ki-ốt", "Kiosk"], display: ["Bảng gọi số", "Board"],
                counter: ["Quầy", "Counter"], web: ["Máy chủ web", "Web server"], admin: ["Quản trị", "Admin"]};
  const PRINTER = {ok: ["giấy đủ", "paper ok"], paper_low: ["sắp hết giấy", "paper low"], paper_out: ["HẾT GIẤY", "OUT OF PAPER"], offline: ["máy in mất kết nối", "printer offline"]};
  const STATUS = {open: ["Đang mở", "Open"], paused: ["Tạm dừng", "Paused"], closed: ["Đóng", "Closed"], unknown: ["?", "?"]};
  function draw(v) {
    $("signin").hidden = true; $("main").hidden = false; document.body.dataset.screen = "hall";
    $("office").textContent = v.office; $("me").textContent = v.me || "";
    const f = v.figures;
    $("figures").innerHTML = [["issued", "Đã lấy số", "Tickets issued"], ["served", "Đã phục vụ", "Served"], ["waiting", "Đang chờ", "Waiting"],
      ["serving", "Đang phục vụ", "Being served"], ["no_show", "Vắng mặt", "No-shows"], ["refused", "Từ chối", "Refused"], ["transferred", "Chuyển", "Transferred"]]
      .map(([k, vi, en]) => `<div data-figure="${k}"><b>${f[k]}</b>${both(vi, en)}</div>`).join("");
    $("queues").innerHTML = v.queues.map(q => `<div class="card" data-service="${esc(q.code)}"><h3>${both(q.name, q.name_en)} · ${q.count}` +
      (q.count ? ` <small class="dim">~${q.est_wait_min}′</small>` : "") + `</h3><div class="tickets">` +
      q.tickets.map(t => t.more ? `<span>+${t.more}</span>` :
        `<span class="${t.overdue ? "overdue" : ""}" data-ticket="${esc(t.ticket)}" title="${t.waited_min ?? "?"}′">${esc(t.ticket)}${t.priority ? "★" : ""}` +
        `${t.waited_min !== null ? ` <small>${t.waited_min}′</small>` : ""}</span>`).join("") + "</div></div>").join("");
    $("counters").innerHTML = `<tr><th>${both("Quầy", "Counter")}</th><th>${both("Trạng thái", "State")}</th><th>${both("Đang phục vụ", "Serving")}</th>` +
      `<th>${both("Cán bộ", "Officer")}</th><th>${both("Chờ", "Waiting")}</th><th>${both("Máy quầy", "Terminal")}</th></tr>` +
      v.counters.map(c => `<tr data-counter="${esc(c.id)}"><td>${esc(c.name)}</td><td>${both(...(STATUS[c.status] || [c.status, c.status]))}</td>` +
        `<td><b>${esc(c.current || "—")}</b>${c.current ? ` <small class="dim">${c.since} (${c.served_min}′)</small>` : ""}</td>` +
        `<td>${esc(c.officer ? c.officer.name : "—")}</td><td>${c.waiting}</td>` +
        `<td class="${c.terminal === "online" ? "on" : "off"}">${c.terminal === "online" ? both("trực tuyến", "online") : both("ngoại tuyến", "offline")}</td></tr>`).join("");
    $("devices").innerHTML = v.devices.map(d => `<tr data-device="${esc(d.role + "/" + d.device)}"><td>${both(...(ROLE[d.role] || [d.role, d.role]))} ${esc(d.device)}</td>` +
      `<td class="${d.status === "online" ? "on" : "off"}">${d.status === "online" ? both("trực tuyến", "online") : both("ngoại tuyến", "offline")}</td>` +
      `<td>${d.printer ? both(...(PRINTER[d.printer] || [d.printer, d.printer])) : ""}</td><td class="dim">${esc(d.at)}</td></tr>`).join("");
  }
  async function showSignIn() { $("main").hidden = true; $("signin").hidden = false; document.body.dataset.screen = "signin"; $("si-officer").focus(); }
  $("signin").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await fetch("/hall/sign-in", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({officer: $("si-officer").value.trim(), pin: $("si-pin").value})});
    const data = await r.json(); $("si-pin").value = "";
    if (!data.ok) { $("signin-error").innerHTML = both(data.error.message, data.error.message_en); document.body.dataset.error = data.error.code; return; }
    start();
  });
  $("signout").addEventListener("click", async () => {
    await fetch("/hall/sign-out", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    location.reload();
  });
  function start() {
    conn = Motcua.connect("/ws/hall", (m) => { if (m.type === "hall") draw(m); }, {onRefused: () => { conn = null; showSignIn(); }});
  }
  start();
})();
