"use strict";
(() => {
  Motcua.initLang();
  const $ = (id) => document.getElementById(id);
  const esc = Motcua.esc;
  let last = null, flashKey = null, clockShift = 0;
  function draw(v) {
    last = v;
    // The office's clock (which a demo may run from another moment), in its time zone.
    clockShift = (v.clock_offset_s + v.utc_offset_min * 60) * 1000;
    tick();
    $("office").textContent = v.office;
    const n = v.newest;
    const box = $("newest");
    if (n) {
      box.className = "newest";
      box.innerHTML = `<span class="num" data-ticket="${esc(n.ticket)}">${esc(n.ticket)}</span>` +
        `<span class="to"><span class="vi">→ ${esc(n.counter_name)}</span>` +
        `<span class="en">→ ${esc(n.counter_name.replace("Quầy", "Counter"))}</span></span>`;
      const key = n.ticket + "|" + n.at;
      if (flashKey !== null && key !== flashKey) { void box.offsetWidth; box.classList.add("flash"); }
      flashKey = key;
    } else {
      box.className = "newest idle";
      box.innerHTML = v.closed ? '<span class="vi">Đã hết giờ làm việc</span><span class="en">Closed for today</span>'
        : '<span class="vi">Xin chào quý khách</span><span class="en">Welcome</span>';
    }
    $("serving").innerHTML = v.serving.map(s =>
      `<tr class="${n && n.ticket === s.ticket ? "fresh" : ""}" data-counter="${esc(s.counter)}">` +
      `<td class="c">${esc(s.counter_name)}</td><td class="t">${esc(s.ticket)}</td></tr>`).join("");
    $("waiting").innerHTML = v.waiting.map(w =>
      `<tr data-service="${esc(w.code)}"><td><span class="vi">${esc(w.name)}</span><span class="en">${esc(w.name_en)}</span></td>` +
      `<td class="n">${w.count}</td><td class="w">${w.count ? "~" + w.est_wait_min + "′" : ""}</td></tr>`).join("");
    $("recent").innerHTML = v.recent.slice(n ? 1 : 0, 9).map(r =>
      `<li><b>${esc(r.ticket)}</b> → ${esc(r.counter_name)}</li>`).join("");
    $("notices").innerHTML = v.notices.length ? `<span>${v.notices.map(esc).join(" · ")}</span>` : "";
    document.body.dataset.ready = v.ready ? "1" : "0";
  }
  function onCall(c) {
    // Shown at once, before the board state that follows it; then the chime and the voice.
    const box = $("newest");
    box.className = "newest";
    box.innerHTML = `<span class="num" data-ticket="${esc(c.ticket)}">${esc(c.ticket)}</span>` +
      `<span class="to"><span class="vi">→ ${esc(c.counter_name)}</span>` +
      `<span class="en">→ ${esc(c.counter_name.replace("Quầy", "Counter"))}</span></span>`;
    void box.offsetWidth; box.classList.add("flash");
    flashKey = null;
    window.__calls = (window.__calls || []).concat([{ticket: c.ticket, at: Date.now()}]);
    // The chime, then the call said `repeat` times (the later sayings only while no other
    // call waits to be said, as the Kivy board does).
    Motcua.play([c.chime, ...c.audio], c.repeat > 1 ? {again: c.audio, times: c.repeat - 1} : null);
  }
  Motcua.connect("/ws/board", (m) => {
    if (m.type === "board") draw(m);
    else if (m.type === "call") onCall(m);
  });
  function tick() {
    const d = new Date(Date.now() + clockShift);
    $("clock").textContent = String(d.getUTCHours()).padStart(2, "0") + ":" +
      String(d.getUTCMinutes()).padStart(2, "0");
  }
  tick(); setInterval(tick, 10000);
})();
