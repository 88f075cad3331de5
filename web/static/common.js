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
    let ws = null, heard = 0, delay = 500, closedFor = null;
    const state = { socket: false, online: false, send: null };
    function lost(isLost) {
      document.body.classList.toggle("is-lost", isLost);
      document.body.dataset.connection = isLost ? "lost" : "online";
    }
    function refresh() { lost(!(state.socket && state.online)); }
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
        if (ev.code === 4404 || ev.code === 4401) { closedFor = ev.code; if (opts.onRefused) opts.onRefused(ev.code); return; }
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
  // Sounds one after another, never cut off (the board's chime then voice).
  const queue = []; let playing = false;
  function play(urls, repeat) {
    queue.push({urls: urls.filter(Boolean), repeat});
    if (!playing) next();
  }
  let current = [];
  function next() {
    if (!current.length) {
      const item = queue.shift();
      if (!item) { playing = false; return; }
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
    const a = new Audio(url);
    document.body.dataset.playing = url;
    const done = () => { window.__played = (window.__played || []).concat([url]); next(); };
    a.onended = done; a.onerror = done;
    a.play().catch(() => { window.__blocked = (window.__blocked || 0) + 1; done(); });
  }
  return { initLang, setLang, esc, connect, play };
})();
