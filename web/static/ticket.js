"use strict";
(() => {
  Motcua.initLang();
  const $ = (id) => document.getElementById(id);
  const esc = Motcua.esc;
  const parts = location.pathname.split("/");  // /t/<day>/<number>
  const day = parts[2], number = parts[3];
  const key = new URLSearchParams(location.search).get("k") || "";
  let soundOn = false, lastStatus = null;
  $("sound").addEventListener("click", () => {
    soundOn = true; $("sound").classList.add("on");
    Motcua.unlock();  // the tap lets the page make sound (phones need one)
    Motcua.play(["/audio/chime.wav"]);
  });
  const both = (vi, en) => `<span class="vi">${vi}</span><span class="en">${en}</span>`;
  function draw(v) {
    $("office").textContent = v.office;
    $("number").textContent = v.number;
    $("service").innerHTML = both(esc(v.service[0]), esc(v.service[1]));
    const s = $("status");
    s.className = v.status;
    document.body.dataset.status = v.status;
    if (v.status === "waiting") {
      s.innerHTML = v.ahead === 0
        ? both('<p class="big">Bạn là người tiếp theo</p>', '<p class="big">You are next</p>')
        : both(`<p>Trước bạn còn</p><p class="big">${v.ahead} người</p><p>khoảng ${Math.max(1, v.est_wait_min)} phút</p>`,
               `<p>Ahead of you</p><p class="big">${v.ahead} ${v.ahead === 1 ? "person" : "people"}</p><p>about ${Math.max(1, v.est_wait_min)} min</p>`);
    } else if (v.status === "called") {
      s.innerHTML = both(`<p class="big">${esc(v.text)}</p>`, `<p class="big">${esc(v.text_en)}</p>`);
      if (lastStatus !== null && lastStatus !== "called") alert_();
    } else if (v.status === "done") {
      s.innerHTML = both("<p class='big'>Cảm ơn quý khách!</p><p>Hồ sơ của bạn đã được tiếp nhận.</p>",
                         "<p class='big'>Thank you!</p><p>You have been served.</p>");
    } else if (v.status === "no_show") {
      s.innerHTML = both("<p>Số này đã được gọi nhưng bạn không có mặt. Vui lòng hỏi cán bộ tại quầy.</p>",
                         "<p>This number was called but you were not there. Please ask at a counter.</p>");
    } else if (v.status === "refused" || v.status === "unserved") {
      s.innerHTML = both("<p>Lượt của bạn đã kết thúc. Cảm ơn quý khách.</p>", "<p>Your turn has ended. Thank you.</p>");
    } else {
      s.innerHTML = both("<p>Đang cập nhật…</p>", "<p>Updating…</p>");
    }
    // After a service that ended as done: the four levels, once (the dispatcher keeps one).
    $("rate").hidden = v.status !== "done" || rated;
    lastStatus = v.status;
  }
  let rated = false, conn = null;
  for (const b of document.querySelectorAll("#rate button")) {
    b.addEventListener("click", () => {
      if (conn && conn.send({type: "rate", level: b.dataset.level})) {
        for (const x of document.querySelectorAll("#rate button")) x.disabled = true;
        $("rated").innerHTML = both("Đang gửi…", "Sending…");
      }
    });
  }
  function answered(m) {
    window.__rated = m;
    for (const x of document.querySelectorAll("#rate button")) x.disabled = false;
    if (m.ok || (m.error && m.error.code === "already_rated")) {
      rated = true;
      $("rate").hidden = true;
      $("status").insertAdjacentHTML("beforeend", both("<p>Cảm ơn ông/bà đã đánh giá.</p>",
                                                       "<p>Thank you for your rating.</p>"));
    } else {
      $("rated").innerHTML = both(esc(m.error.message), esc(m.error.message_en));
    }
  }
  let lastAlert = 0;
  function alert_() {
    if (Date.now() - lastAlert < 5000) return;  // the call event and the view that follows it
    lastAlert = Date.now();
    window.__alerted = (window.__alerted || 0) + 1;
    if (navigator.vibrate) { try { navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* */ } }
    if (soundOn) Motcua.play(["/audio/chime.wav"]);
  }
  conn = Motcua.connect(`/ws/t/${encodeURIComponent(day)}/${encodeURIComponent(number)}?k=${encodeURIComponent(key)}`, (m) => {
    if (m.type === "ticket") draw(m);
    else if (m.type === "rated") answered(m);
    else if (m.type === "call" && m.ticket === number) {
      window.__calls = (window.__calls || []).concat([{ticket: m.ticket, at: Date.now()}]);
      alert_();
    }
  }, { onRefused: () => { location.reload(); } });
})();
