// motcua web pages: one WebSocket per page, pushed views, reconnect by itself; the language
// switch. No queue logic here: the server sends what to show.
"use strict";
const Motcua = (() => {
  const LANG_KEY = "motcua-lang";
  function setLang(lang) {
    document.body.classList.toggle("lang-en", lang === "en");
    document.documentElement.lang = lang;
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode */ }
  }
  function initLang() {
    let lang = "vi";
    try { lang = localStorage.getItem(LANG_KEY) || "vi"; } catch (e) { /* private mode */ }
    const q = new URLSearchParams(location.search).get("lang");
    if (q === "en" || q === "vi") lang = q;
    setLang(lang);
    const b = document.querySelector(".lang");
    if (b) b.addEventListener("click", () =>
      setLang(document.body.classList.contains("lang-en") ? "vi" : "en"));
  }
  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
      '"': "&quot;", "'": "&#39;"}[c]));
  }
  // Connect to `path`; onView(view) for each message; the page is "lost" while the socket is
  // down, silent for 15 s, or the server says the broker or dispatcher is gone.
  function connect(path, onMessage, opts) {
    opts = opts || {};
    let ws = null, heard = 0, delay = 500;
    const state = { socket: false, online: false, send: null };
    function lost(isLost) {
      document.body.classList.toggle("is-lost", isLost);
      document.body.dataset.connection = isLost ? "lost" : "online";
    }
    function refresh() { lost(!(state.socket && state.online)); }
    // The same page opened once too often (another tab, another phone): this, the oldest,
    // stops and says so; a tap takes it back (it then replaces the oldest of the others).
    function replaced() {
      document.body.dataset.connection = "replaced";
      const box = document.querySelector(".lost div");
      if (box) box.innerHTML = '<span class="vi">Trang này đã được mở ở nơi khác</span>' +
        '<span class="en">This page was opened elsewhere</span><small><span class="vi">Chạm ' +
        'để xem tiếp tại đây</span><span class="en">Tap to follow it here</span></small>';
      const layer = document.querySelector(".lost");
      if (layer) layer.addEventListener("click", () => location.reload(), {once: true});
    }
    function open() {
      const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
      ws = new WebSocket(url);
      ws.onopen = () => { state.socket = true; heard = Date.now(); delay = 500; refresh(); };
      ws.onmessage = (ev) => {
        heard = Date.now();
        let m; try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === "ping") return;
        if ("online" in m) { state.online = !!m.online; refresh(); }
        onMessage(m);
      };
      ws.onclose = (ev) => {
        state.socket = false; refresh();
        if (ev.code === 4404 || ev.code === 4401) { if (opts.onRefused) opts.onRefused(ev.code); return; }
        if (ev.code === 4409) { replaced(); return; }
        if (ev.code === 4429) { setTimeout(open, 10000 + Math.random() * 20000); return; }  // full
        setTimeout(open, delay); delay = Math.min(delay * 2, 3000);
      };
      ws.onerror = () => { try { ws.close(); } catch (e) { /* closing */ } };
    }
    state.send = (obj) => {
      if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
      return false;
    };
    setInterval(() => {
      if (state.socket && Date.now() - heard > 15000) { try { ws.close(); } catch (e) { /* */ } }
    }, 1000);
    open();
    return state;
  }
  // Sounds one after another, never cut off (the board's chime then voice). Web Audio: each
  // sound is fetched and decoded once, as soon as it is announced (while another still
  // plays), then started from memory: no media element and no request per saying. A phone
  // unlocks the one context with a tap (`unlock`); a TV in kiosk mode needs none.
  const KEEP_SOUNDS = 40;
  const buffers = new Map();  // url -> Promise<AudioBuffer>, the newest last
  let ctx = null;
  function audio() {
    const C = window.AudioContext || window.webkitAudioContext;
    if (!ctx && C) ctx = new C();
    return ctx;
  }
  function load(url) {
    let p = buffers.get(url);
    if (p) { buffers.delete(url); buffers.set(url, p); return p; }
    p = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: ${r.status}`);
      return r.arrayBuffer();
    }).then((b) => audio().decodeAudioData(b));
    p.catch(() => buffers.delete(url));  // a failed one is fetched again next time
    buffers.set(url, p);
    while (buffers.size > KEEP_SOUNDS) buffers.delete(buffers.keys().next().value);
    return p;
  }
  function running(c) {  // the context playing, or given up after a moment (no gesture yet)
    if (c.state === "running") return Promise.resolve(true);
    const waited = new Promise((ok) => setTimeout(() => ok(false), 800));
    return Promise.race([c.resume().then(() => c.state === "running", () => false), waited]);
  }
  function unlock() {  // from a tap: lets this page make sound from now on
    const c = audio();
    if (c) c.resume().then(() => {}, () => {});
  }
  const queue = []; let playing = false;
  function play(urls, repeat) {
    if (!audio()) return;
    urls = urls.filter(Boolean);
    urls.forEach((u) => load(u).then(() => {}, () => {}));
    queue.push({urls, repeat});
    if (!playing) next();
  }
  let current = [];
  function next() {
    if (!current.length) {
      const item = queue.shift();
      if (!item) { playing = false; delete document.body.dataset.playing; return; }
      current = item.urls.slice();
      if (item.repeat && item.repeat.times > 0 && item.repeat.again.length) {
        // said again only if no other call is waiting by then
        current.push({again: item.repeat.again, times: item.repeat.times});
      }
    }
    let url = current.shift();
    if (url && typeof url === "object") {
      if (queue.length) { current = []; next(); return; }
      const more = url.times - 1;
      current = url.again.slice();
      if (more > 0) current.push({again: url.again, times: more});
      url = current.shift();
    }
    if (!url) { next(); return; }
    playing = true;
    document.body.dataset.playing = url;
    const c = audio();
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      window.__played = (window.__played || []).concat([url]);
      next();
    };
    Promise.all([load(url), running(c)]).then(([buffer, on]) => {
      if (!on) { window.__blocked = (window.__blocked || 0) + 1; finished = true; next(); return; }
      const source = c.createBufferSource();
      source.buffer = buffer;
      source.connect(c.destination);
      source.onended = done;
      // never stuck: a context stopped by the system mid-sound ends the sound too
      setTimeout(done, buffer.duration * 1000 + 2000);
      source.start();
    }, () => { finished = true; next(); });
  }
  return { initLang, setLang, esc, connect, play, unlock };
})();
