// Timed exam page. It only enhances the server-rendered form, which works without it:
// - every answer is sent as soon as it is chosen (PUT …/answers/<question>);
// - answers that cannot be sent yet wait in localStorage and are sent when the network is back,
//   also after a reload;
// - the navigator shows answered, unanswered and flagged questions;
// - the clock shows the server's deadline and hands the paper in when time is up;
// - leaving the page or copying is reported to the server.
// The server keeps the real deadline and the real answers: nothing here decides a result.
(() => {
  "use strict";

  const form = document.getElementById("exam-form");
  if (!form || form.getAttribute("data-exam-enhanced")) { return; }
  const attemptId = form.getAttribute("data-attempt") || "";
  if (!attemptId) { return; }
  form.setAttribute("data-exam-enhanced", "1");

  // --- small helpers ---------------------------------------------------------------------

  // Nothing may escape to the console: handlers are wrapped, and the last error is kept on the
  // form (data-js-error) where a browser test can look for it.
  function report(err) {
    try { form.setAttribute("data-js-error", String((err && err.message) || err)); } catch (ignored) { /* nothing more to do */ }
  }
  function guard(fn) {
    return function guarded(...args) {
      try {
        const result = fn.apply(this, args);
        if (result && typeof result.then === "function") { result.then(null, report); }
        return result;
      } catch (err) {
        report(err);
        return undefined;
      }
    };
  }
  const delay = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
  const withTimeout = (promise, ms) => Promise.race([Promise.resolve(promise).then(null, report), delay(ms)]);
  const offline = () => navigator.onLine === false; // "true" proves nothing; "false" is reliable
  const pad = (n) => (n < 10 ? "0" : "") + n;
  // Elapsed time on this page comes from the monotonic clock: the phone's wall clock
  // (Date.now) can jump at any moment, when the worker changes it, the network corrects it or
  // the phone wakes with another time, and a jump must not end the exam or stretch it.
  // performance.now() only counts forward from this page's start, so it is never kept
  // across a reload.
  const mono = (typeof performance === "object" && performance && typeof performance.now === "function")
    ? () => performance.now()
    : () => Date.now(); // very old browsers only
  const toArray = (list) => Array.prototype.slice.call(list || []);

  // --- texts (translated by the server) --------------------------------------------------

  const textsEl = document.getElementById("exam-texts");
  const chinese = /^zh/i.test(document.documentElement.getAttribute("lang") || "zh");
  const FALLBACK = chinese ? {
    saved: "已保存", saving: "正在保存…", unsaved: "未保存，联网后自动发送", error: "没有保存上，请再点一次",
    offline: "网络断了。你的答案先存在手机里，联网后会自动发送。", online: "网络已恢复，答案已发送。",
    confirmUnanswered: "还有 {n} 题没做：{list}。确定交卷吗？", confirm: "确定交卷吗？交卷后不能再改。",
    offlineSubmit: "现在没有网络，不能交卷。请等联网后再交。", timeLeft: "剩余时间", timeUp: "时间到，正在交卷…",
    closed: "考试已结束，正在打开结果页…", warning: "离开考试页面已记录（第 {n} 次）。", listSeparator: "、",
  } : {
    saved: "Saved", saving: "Saving…", unsaved: "Not saved yet: it is sent when the network is back",
    error: "Not saved. Please choose again.",
    offline: "The network is down. Your answers are kept on this phone and sent when it is back.",
    online: "The network is back and your answers are sent.",
    confirmUnanswered: "{n} questions are not answered: {list}. Hand in anyway?",
    confirm: "Hand in now? You cannot change your answers afterwards.",
    offlineSubmit: "There is no network, so you cannot hand in now. Please wait for the network.",
    timeLeft: "Time left", timeUp: "Time is up. Handing in…", closed: "The exam is over. Opening your result…",
    warning: "Leaving the exam page was recorded (time {n}).", listSeparator: ", ",
  };
  function text(name, vars) {
    let value = textsEl ? textsEl.dataset[name] : undefined;
    if (typeof value !== "string" || value === "") { value = FALLBACK[name] || ""; }
    if (vars) {
      value = value.replace(/\{(\w+)\}/g, (whole, key) => (
        Object.prototype.hasOwnProperty.call(vars, key) ? String(vars[key]) : whole));
    }
    return value;
  }

  // --- settings from the form --------------------------------------------------------------

  const api = (form.getAttribute("data-api") || "/api/v1").replace(/\/+$/, "");
  const token = form.getAttribute("data-token") || "";
  const deadline = Date.parse(form.getAttribute("data-deadline") || "");
  const doneUrl = form.getAttribute("data-done-url") || "";
  const departureLimit = form.getAttribute("data-departure-limit") || "";
  const attemptPath = "/attempts/" + encodeURIComponent(attemptId);
  const QUEUE_KEY = "certify.exam." + attemptId + ".queue";
  const FLAGS_KEY = "certify.exam." + attemptId + ".flags";
  const EVENTS_KEY = "certify.exam." + attemptId + ".events";
  const AUTO_KEY = "certify.exam." + attemptId + ".autosubmit"; // sessionStorage
  const LEFT_KEY = "certify.exam." + attemptId + ".left"; // sessionStorage: when this page unloaded
  const RELOAD_GRACE = 5000; // a reload, or a quick back-and-forward, is not leaving the exam
  const REQUEST_TIMEOUT = 8000;
  const RETRY_EVERY = 10000;
  const CHECKBOX_DEBOUNCE = 300;
  const SUBMIT_FLUSH = 5000;
  const TIME_UP_FLUSH = 3000;
  const MAX_PARALLEL = 3; // a long outage can leave many answers queued; don't time them all out at once
  const MAX_EVENTS = 200;

  // --- storage: localStorage when it works, memory always -----------------------------------

  function openStorage(kind) {
    let area = null;
    try {
      area = window[kind];
      const probe = "certify.exam.probe";
      area.setItem(probe, "1");
      area.removeItem(probe);
    } catch (err) {
      area = null; // private mode, disabled cookies, full quota: memory only
    }
    return {
      get(key) {
        if (!area) { return null; }
        try { const raw = area.getItem(key); return raw ? JSON.parse(raw) : null; } catch (err) { return null; }
      },
      set(key, value) {
        if (!area) { return false; }
        try { area.setItem(key, JSON.stringify(value)); return true; } catch (err) { return false; }
      },
      remove(key) {
        if (!area) { return; }
        try { area.removeItem(key); } catch (err) { /* memory still holds the truth */ }
      },
    };
  }
  const store = openStorage("localStorage");
  const session = openStorage("sessionStorage");

  // --- the page ------------------------------------------------------------------------------

  const timerEl = document.getElementById("timer");
  const connectionEl = document.getElementById("connection");
  const submitButton = document.getElementById("submit-button")
    || form.querySelector('button[type="submit"][name="action"][value="submit"]');
  const fieldsets = Object.create(null); // question id -> fieldset
  const questionOrder = [];
  toArray(form.querySelectorAll("fieldset.question[data-question]")).forEach((fs) => {
    const q = fs.getAttribute("data-question");
    if (q && !fieldsets[q]) { fieldsets[q] = fs; questionOrder.push(q); }
  });
  const navLinks = toArray(document.querySelectorAll("#navigator a[data-question]"));

  function answerInputs(fs) {
    return toArray(fs.querySelectorAll("input[name]")).filter((input) => (
      (input.type === "radio" || input.type === "checkbox") && !input.classList.contains("flag")));
  }
  function currentAnswer(fs) {
    return answerInputs(fs).filter((input) => input.checked).map((input) => input.value);
  }
  function isAnswered(q) {
    const fs = fieldsets[q];
    return Boolean(fs) && answerInputs(fs).some((input) => input.checked);
  }
  function questionOf(el) {
    const fs = el && el.closest ? el.closest("fieldset.question[data-question]") : null;
    return fs && form.contains(fs) ? fs.getAttribute("data-question") : null;
  }

  const STATE_TEXTS = { saved: "saved", pending: "saving", unsaved: "unsaved", error: "error" };
  function setState(q, state) {
    const fs = fieldsets[q];
    const span = fs ? fs.querySelector(".save-state") : null;
    if (!span) { return; }
    span.setAttribute("data-state", state);
    span.textContent = text(STATE_TEXTS[state]);
  }

  // --- messages ---------------------------------------------------------------------------------

  let offlineShown = false;
  let connectionTimer = null;
  function showConnection(message, clearAfter) {
    if (!connectionEl) { return; }
    clearTimeout(connectionTimer);
    connectionTimer = null;
    connectionEl.textContent = message;
    if (clearAfter) {
      connectionTimer = setTimeout(guard(() => {
        if (connectionEl.textContent === message) { connectionEl.textContent = ""; }
      }), clearAfter);
    }
  }
  function noteOffline() {
    if (stopped) { return; }
    offlineShown = true;
    showConnection(text("offline"));
  }
  function noteMaybeOnline() {
    if (stopped || !offlineShown || Object.keys(queue).length) { return; }
    offlineShown = false;
    showConnection(text("online"), 10000);
  }
  let warningEl = null;
  function showWarning(message) {
    if (!warningEl) {
      warningEl = document.createElement("p");
      warningEl.id = "exam-warning";
      warningEl.className = "flash flash-warning";
      warningEl.setAttribute("role", "alert");
      const anchor = connectionEl && connectionEl.parentNode ? connectionEl : null;
      if (anchor) { anchor.parentNode.insertBefore(warningEl, anchor.nextSibling); } else { form.insertBefore(warningEl, form.firstChild); }
    }
    warningEl.textContent = message;
  }

  // Our own alert/confirm blur and refocus the window in some browsers: that is not leaving.
  let dialogOpen = false;
  let quietUntil = 0;
  function dialog(fn) {
    dialogOpen = true;
    try { return fn(); } catch (err) { return undefined; } finally {
      dialogOpen = false;
      quietUntil = mono() + 1000;
    }
  }
  const inDialog = () => dialogOpen || mono() < quietUntil;

  // --- state ------------------------------------------------------------------------------------

  let stopped = false; // the attempt is over (409, auto-submitted): do nothing more
  let timeUp = false;
  let submitting = false;
  let formSent = false;

  // Unsent answers: question id -> {answer: [...], at: ms}. Memory is the truth for this page;
  // localStorage is its copy that survives a reload or a dead battery.
  const queue = Object.create(null);
  let lastAt = 0;
  // `at` only tells two choices of a question apart and orders them, here and after a reload,
  // which the monotonic clock cannot do (it restarts with the page): wall time, forced to
  // grow so a clock set back changes nothing. It is never compared with the deadline.
  const nextAt = () => { lastAt = Math.max(Date.now(), lastAt + 1); return lastAt; };
  const validId = (q) => typeof q === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(q);
  const validAnswer = (a) => Array.isArray(a) && a.every((v) => typeof v === "string");
  (() => {
    const saved = store.get(QUEUE_KEY);
    if (!saved || typeof saved !== "object" || Array.isArray(saved)) { return; }
    Object.keys(saved).forEach((q) => {
      const entry = saved[q];
      if (validId(q) && entry && validAnswer(entry.answer)) {
        const at = Number(entry.at) || 0;
        queue[q] = { answer: entry.answer.slice(), at };
        lastAt = Math.max(lastAt, at);
      }
    });
  })();
  function saveQueue() {
    if (Object.keys(queue).length) { store.set(QUEUE_KEY, queue); } else { store.remove(QUEUE_KEY); }
  }

  const flags = new Set();
  (() => {
    const saved = store.get(FLAGS_KEY);
    if (Array.isArray(saved)) { saved.forEach((q) => { if (validId(q)) { flags.add(q); } }); }
  })();
  function saveFlags() {
    if (flags.size) { store.set(FLAGS_KEY, Array.from(flags)); } else { store.remove(FLAGS_KEY); }
  }

  let events = [];
  (() => {
    const saved = store.get(EVENTS_KEY);
    if (Array.isArray(saved)) {
      events = saved.filter((e) => e && typeof e.kind === "string" && typeof e.at === "string").slice(-MAX_EVENTS);
    }
  })();
  function saveEvents() {
    if (events.length) { store.set(EVENTS_KEY, events); } else { store.remove(EVENTS_KEY); }
  }

  // --- navigator ----------------------------------------------------------------------------

  function updateNav(onlyQ) {
    navLinks.forEach((link) => {
      const q = link.getAttribute("data-question");
      if (onlyQ !== undefined && q !== onlyQ) { return; }
      const answered = isAnswered(q);
      link.classList.toggle("answered", answered);
      link.classList.toggle("unanswered", !answered);
      link.classList.toggle("flagged", flags.has(q));
    });
  }

  // --- clock ----------------------------------------------------------------------------------

  // Server time now = the server's time at a known moment + the monotonic time since then.
  // The moment is when the page arrived (data-server-now; the navigation timing's
  // responseStart, on the same timeline as performance.now(), or now). It moves when a saved
  // answer's saved_at shows the estimate is off (the page was cached, or the phone slept:
  // performance.now() does not advance while a phone sleeps on most systems). saved_at is read
  // from the app's own clock, the one its deadlines are kept by. Never the phone's wall
  // clock, which can jump mid-exam (a jump forward handed the paper in early), and never the
  // HTTP Date header: that is written by whatever answered (the web server, a proxy, a captive
  // portal) from its own clock; trusting it, a page whose Date disagreed with the app's clock
  // by more than the time left handed the paper in after the first answer.
  let baseServer = 0; // ms since the epoch on the server's clock, at...
  let baseMono = 0; // ...this mono() reading
  (() => {
    const now = mono();
    baseMono = now;
    const serverNow = Date.parse(form.getAttribute("data-server-now") || "");
    if (isNaN(serverNow)) { baseServer = Date.now(); return; } // nothing better: read the phone once
    baseServer = serverNow;
    try {
      const arrived = performance.getEntriesByType("navigation")[0].responseStart;
      if (arrived > 0 && arrived <= now && arrived > now - 120000) { baseMono = arrived; }
    } catch (err) { /* older browser: the moment the script runs is close enough */ }
  })();
  const serverAt = (monoTime) => baseServer + (monoTime - baseMono);
  const serverTime = () => serverAt(mono());
  function syncClock(data, started) {
    const raw = data && typeof data.saved_at === "string" ? data.saved_at : "";
    const saved = Date.parse(raw.replace(/(\.\d{3})\d+/, "$1")); // microseconds: not every browser
    if (isNaN(saved)) { return; }
    const now = mono();
    // The server read its clock between the request leaving (started, a mono() reading) and
    // the answer arriving; allow one second on each side.
    if (saved < serverAt(started) - 1000 || saved > serverAt(now) + 1000) {
      baseServer = saved;
      baseMono = (started + now) / 2;
      if (!timeUp) { tick(); }
    }
  }

  function formatLeft(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  let clockTimer = null;
  function tick() {
    clearTimeout(clockTimer);
    clockTimer = null;
    if (stopped || timeUp || isNaN(deadline)) { return; }
    const left = deadline - serverTime();
    if (left <= 0) {
      onTimeUp();
      return;
    }
    if (timerEl) { timerEl.textContent = text("timeLeft") + " " + formatLeft(left); }
    clockTimer = setTimeout(guard(tick), (left % 1000) + 25);
  }

  // --- network ------------------------------------------------------------------------------

  // One API call; never rejects. status 0 = no answer (offline, timeout, fetch missing).
  async function call(method, path, body, keepalive) {
    if (typeof fetch !== "function") { return { status: 0, data: null }; }
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    let timer = null;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        if (controller) { try { controller.abort(); } catch (err) { /* already done */ } }
        resolve({ status: 0, data: null });
      }, REQUEST_TIMEOUT);
    });
    const started = mono();
    const request = (async () => {
      const init = {
        method,
        credentials: "same-origin",
        cache: "no-store",
        headers: { Authorization: "Bearer " + token, "Content-Type": "application/json", Accept: "application/json" },
      };
      if (body !== undefined) { init.body = JSON.stringify(body); }
      if (controller) { init.signal = controller.signal; }
      if (keepalive) { init.keepalive = true; }
      const response = await fetch(api + path, init);
      let data = null;
      try { data = await response.json(); } catch (err) { data = null; }
      if (response.ok) { try { syncClock(data, started); } catch (err) { report(err); } }
      return { status: response.status, data };
    })().then(null, () => ({ status: 0, data: null }));
    try {
      return await Promise.race([request, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  function closedCode(data) {
    const code = data && data.error && data.error.code;
    return code === "past_deadline" || code === "attempt_closed";
  }
  // ok | closed | retry (keep it queued) | reject (4xx: never retried)
  function outcome(result) {
    const status = result.status;
    if (status >= 200 && status < 300) {
      // A 2xx that is not our JSON (a captive portal's page, say) did not reach the server.
      return result.data && typeof result.data === "object" ? "ok" : "retry";
    }
    if (status === 409 && closedCode(result.data)) { return "closed"; }
    if (status === 0 || status >= 500 || status === 408 || status === 429) { return "retry"; }
    return "reject";
  }

  let active = 0;
  const waiting = [];
  function acquire() {
    if (active < MAX_PARALLEL) { active += 1; return Promise.resolve(); }
    return new Promise((resolve) => { waiting.push(resolve); });
  }
  function release() {
    const next = waiting.shift();
    if (next) { next(); } else { active -= 1; }
  }

  // --- saving answers -------------------------------------------------------------------------

  const inflight = Object.create(null); // question id -> promise of its send loop
  const debounce = Object.create(null); // question id -> timer
  let failures = 0; // bumped on every failed send: queued retries behind it give up for this round

  // Send question q until the server has its newest choice, one request at a time, so an older
  // response can never overwrite the state of a newer choice.
  function sendQuestion(q, opts) {
    if (stopped) { return Promise.resolve(); }
    if (inflight[q]) { return inflight[q]; } // it sends the newest choice when the current request ends
    const run = drain(q, opts || {}).then(null, report).then(() => { delete inflight[q]; });
    inflight[q] = run;
    return run;
  }
  async function drain(q, opts) {
    for (;;) {
      if (stopped || !queue[q] || debounce[q] !== undefined) { return; }
      if (offline()) {
        setState(q, "unsaved");
        noteOffline();
        return;
      }
      const seen = failures;
      await acquire();
      let entry;
      let result;
      try {
        entry = queue[q]; // the newest choice, read only now that a request can start
        if (stopped || !entry) { return; }
        if (opts.background && seen !== failures) { setState(q, "unsaved"); return; }
        result = await call("PUT", attemptPath + "/answers/" + encodeURIComponent(q), { answer: entry.answer }, opts.keepalive);
      } finally {
        release();
      }
      if (stopped) { return; }
      const kind = outcome(result);
      if (kind === "closed") { closeAttempt(); return; }
      if (kind === "retry") {
        failures += 1;
        if (queue[q]) { setState(q, "unsaved"); }
        noteOffline();
        return;
      }
      const newest = queue[q];
      if (newest && newest.at === entry.at) {
        delete queue[q];
        saveQueue();
        setState(q, kind === "ok" ? "saved" : "error");
        if (kind === "ok") { noteMaybeOnline(); }
        return;
      }
      // A newer choice came while this one was on its way: send that one now.
    }
  }

  function flushAll(opts) {
    opts = opts || {};
    if (stopped) { return Promise.resolve(); }
    if (opts.now) {
      Object.keys(debounce).forEach((q) => { clearTimeout(debounce[q]); delete debounce[q]; });
    }
    const sends = Object.keys(queue).map((q) => sendQuestion(q, opts));
    sends.push(flushEvents(opts));
    return Promise.all(sends).then(() => { noteMaybeOnline(); }, report);
  }

  function onAnswerChange(input) {
    const q = questionOf(input);
    if (!q || stopped) { return; }
    queue[q] = { answer: currentAnswer(fieldsets[q]), at: nextAt() }; // kept before anything is sent
    saveQueue();
    setState(q, "pending");
    updateNav(q);
    if (debounce[q] !== undefined) { clearTimeout(debounce[q]); delete debounce[q]; }
    if (input.type === "checkbox") {
      debounce[q] = setTimeout(guard(() => { delete debounce[q]; sendQuestion(q); }), CHECKBOX_DEBOUNCE);
    } else {
      sendQuestion(q);
    }
  }

  // --- proctoring events --------------------------------------------------------------------------

  let eventsBusy = false;
  let shownDepartures = 0;
  function queueEvent(kind) {
    if (stopped) { return; }
    events.push({ kind, at: new Date(serverTime()).toISOString() });
    if (events.length > MAX_EVENTS) { events.splice(0, events.length - MAX_EVENTS); }
    saveEvents();
    flushEvents({ keepalive: kind === "hidden" || kind === "blur" });
  }
  // Events go one at a time, in order, beside the answers (never in their way).
  async function flushEvents(opts) {
    if (eventsBusy || stopped || !events.length) { return; }
    eventsBusy = true;
    try {
      while (events.length && !stopped && !offline()) {
        const event = events[0];
        const result = await call("POST", attemptPath + "/events", event, Boolean(opts && opts.keepalive));
        if (stopped) { return; }
        const kind = outcome(result);
        if (kind === "retry") { return; }
        if (kind === "closed") { closeAttempt(); return; }
        if (events[0] === event) { events.shift(); }
        saveEvents();
        if (kind === "ok") {
          if (result.data.auto_submitted === true) { closeAttempt(); return; }
          const n = Number(result.data.departures);
          if (n > 0 && n > shownDepartures) {
            shownDepartures = n;
            showWarning(text("warning", { n, limit: departureLimit }));
          }
        }
      }
    } finally {
      eventsBusy = false;
    }
  }

  // --- the end --------------------------------------------------------------------------------------

  let retryTimer = null;
  function closeAttempt() {
    if (stopped) { return; }
    stopped = true;
    clearTimeout(clockTimer);
    clearInterval(retryTimer);
    Object.keys(debounce).forEach((q) => { clearTimeout(debounce[q]); delete debounce[q]; });
    Object.keys(queue).forEach((q) => { delete queue[q]; });
    events = [];
    store.remove(QUEUE_KEY);
    store.remove(EVENTS_KEY);
    store.remove(FLAGS_KEY);
    showConnection(text("closed"));
    try {
      if (doneUrl) { window.location.replace(doneUrl); } else { window.location.reload(); }
    } catch (err) { report(err); }
  }

  function submitForm() {
    if (formSent || stopped) { return; }
    formSent = true;
    let action = form.querySelector("input[data-exam-action]");
    if (!action) {
      action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.setAttribute("data-exam-action", "");
      form.appendChild(action);
    }
    action.value = "submit";
    // Not form.submit(): a control named "submit" would hide the method.
    HTMLFormElement.prototype.submit.call(form);
  }

  function waitOnline() {
    if (!offline()) { return Promise.resolve(); }
    return new Promise((resolve) => {
      let poll = null;
      const done = () => { window.removeEventListener("online", done); clearInterval(poll); resolve(); };
      window.addEventListener("online", done);
      poll = setInterval(() => { if (!offline()) { done(); } }, 2000);
    });
  }

  async function onTimeUp() {
    if (timeUp || stopped) { return; }
    timeUp = true;
    if (timerEl) { timerEl.textContent = text("timeUp"); }
    await withTimeout(flushAll({ now: true }), TIME_UP_FLUSH);
    if (stopped || formSent) { return; }
    if (!isNaN(deadline) && deadline - serverTime() > 1000) {
      // The server's clock (an answer's saved_at) says there is time left after all.
      timeUp = false;
      tick();
      return;
    }
    // The server closes the attempt at its deadline anyway; posting the form offline would only
    // swap this page for the browser's error page, so wait for the network.
    await waitOnline();
    if (stopped || formSent) { return; }
    // Should the server ever show this page again after the deadline, post at most every 15 s.
    // Server time, not mono(): the mark must mean the same on the next load of the page.
    const last = Number(session.get(AUTO_KEY)) || 0;
    const wait = last + 15000 - serverTime();
    if (wait > 0 && wait <= 15000) { await delay(wait); }
    if (stopped || formSent) { return; }
    session.set(AUTO_KEY, serverTime());
    submitForm();
  }

  function unansweredPositions() {
    return questionOrder.map((q, index) => {
      const position = parseInt(fieldsets[q].getAttribute("data-position"), 10);
      return { q, position: isNaN(position) ? index + 1 : position };
    }).filter((item) => !isAnswered(item.q)).map((item) => item.position).sort((a, b) => a - b);
  }

  // Some in-app browsers answer confirm() with "cancel" at once, without showing anything; a
  // worker must still be able to hand in there before the clock runs out. When confirm() comes
  // back "cancel" faster than a person can read (50 ms), the question is shown on the page and a
  // second tap on the button 1 to 15 s later is the answer. (Browser tests that dismiss the
  // dialog automatically are that fast too: a second click of theirs 1-15 s later hands in.)
  let armedFrom = 0;
  let armedUntil = 0;
  // (Monotonic: a wall clock set back by an hour would otherwise refuse the hand-in for an hour.)
  function askConfirm(message) {
    const now = mono();
    if (now >= armedFrom && now < armedUntil) { armedUntil = 0; return true; }
    if (now < armedFrom) { return false; } // a double tap is not an answer
    const ok = dialog(() => window.confirm(message));
    if (!ok && mono() - now < 50) {
      showConnection(message);
      armedFrom = mono() + 1000;
      armedUntil = mono() + 15000;
    }
    return Boolean(ok);
  }

  function setSubmitDisabled(disabled) {
    if (!submitButton) { return; }
    submitButton.disabled = disabled;
    if (disabled) { submitButton.setAttribute("aria-busy", "true"); } else { submitButton.removeAttribute("aria-busy"); }
  }

  let lastButton = null;
  function onSubmit(event) {
    const button = event.submitter || lastButton;
    lastButton = null;
    if (stopped || submitting || formSent || timeUp) { event.preventDefault(); return; }
    const action = button && button.getAttribute("name") === "action" ? button.value : "";
    if (action !== "submit") {
      // "Save": every answer is already saved or kept on the phone. Offline, posting would only
      // replace the exam with the browser's error page.
      if (offline()) { event.preventDefault(); noteOffline(); }
      return;
    }
    event.preventDefault();
    if (offline()) {
      showConnection(text("offlineSubmit"));
      dialog(() => window.alert(text("offlineSubmit")));
      return;
    }
    const missing = unansweredPositions();
    const separator = text("listSeparator");
    const message = missing.length
      ? text("confirmUnanswered", { n: missing.length, list: missing.join(separator) })
      : text("confirm");
    if (!askConfirm(message)) { return; }
    submitting = true;
    setSubmitDisabled(true);
    // The POST carries every answer; the flush only gets the queue out first when it can.
    withTimeout(flushAll({ now: true }), SUBMIT_FLUSH).then(guard(() => {
      if (!stopped) { submitForm(); }
    }));
  }

  // --- copying -----------------------------------------------------------------------------------------

  function inLegend(target) {
    const el = target && target.nodeType === 1 ? target : target && target.parentElement;
    return Boolean(el && el.closest && el.closest(".question legend") && !el.closest("input, textarea, select, button"));
  }
  const noCopy = guard((event) => { if (inLegend(event.target)) { event.preventDefault(); } });

  // --- start ---------------------------------------------------------------------------------------------

  // Flags: client-only, kept per attempt.
  toArray(form.querySelectorAll("input.flag[data-question]")).forEach((box) => {
    box.checked = flags.has(box.getAttribute("data-question"));
  });

  // Resume: the server's checked state is on the page; put back the newer choices it never got.
  Object.keys(queue).forEach((q) => {
    const fs = fieldsets[q];
    if (!fs) { return; } // not on this page: the server will say what it thinks of it
    const entry = queue[q];
    answerInputs(fs).forEach((input) => { input.checked = entry.answer.indexOf(input.value) !== -1; });
    entry.answer = currentAnswer(fs); // only the options this question really has
    setState(q, "unsaved");
  });
  saveQueue();
  updateNav();

  form.addEventListener("change", guard((event) => {
    const input = event.target;
    if (!input || input.tagName !== "INPUT") { return; }
    if (input.classList.contains("flag")) {
      const q = input.getAttribute("data-question");
      if (!validId(q)) { return; }
      if (input.checked) { flags.add(q); } else { flags.delete(q); }
      saveFlags();
      updateNav(q);
      return;
    }
    if (input.type === "radio" || input.type === "checkbox") { onAnswerChange(input); }
  }));

  form.addEventListener("click", guard((event) => {
    const button = event.target && event.target.closest ? event.target.closest("button, input[type=submit]") : null;
    if (button && button.form === form) { lastButton = button; }
  }), true);
  form.addEventListener("submit", guard(onSubmit));

  window.addEventListener("online", guard(() => { flushAll({ background: true }); }));
  window.addEventListener("offline", guard(() => { noteOffline(); }));

  // Unloading the page (a reload, or going elsewhere in this tab) also hides it; that is not a
  // departure by itself. The moment is kept, and the next load of the page decides: back
  // within RELOAD_GRACE is a reload; later, the worker was away all that time.
  let unloading = false;
  const markUnloading = guard(() => {
    unloading = true;
    session.set(LEFT_KEY, new Date(serverTime()).toISOString());
  });
  window.addEventListener("beforeunload", markUnloading);
  const cameBack = guard(() => {
    unloading = false;
    const leftAt = session.get(LEFT_KEY);
    session.remove(LEFT_KEY);
    if (leftAt && serverTime() - Date.parse(leftAt) > RELOAD_GRACE) {
      events.push({ kind: "hidden", at: leftAt });
      queueEvent("visible");
    }
  });
  cameBack();

  document.addEventListener("visibilitychange", guard(() => {
    if (document.visibilityState === "hidden" && unloading) {
      flushAll({ now: true, keepalive: true });
    } else if (document.visibilityState === "hidden") {
      queueEvent("hidden");
      flushAll({ now: true, keepalive: true }); // the phone may freeze or close the page now
    } else if (document.visibilityState === "visible") {
      queueEvent("visible");
      tick(); // timers sleep in the background
      flushAll({ background: true });
    }
  }));
  window.addEventListener("blur", guard((event) => {
    if (event.target === window && !inDialog()) { queueEvent("blur"); }
  }));
  window.addEventListener("focus", guard((event) => {
    if (event.target === window && !inDialog()) { queueEvent("focus"); }
  }));
  window.addEventListener("pagehide", guard(() => {
    markUnloading();
    flushAll({ now: true, keepalive: true });
  }));
  window.addEventListener("pageshow", guard((event) => {
    if (!event.persisted) { return; }
    cameBack();
    // Back from the browser's history cache (e.g. after a failed hand-in): usable again.
    submitting = false;
    formSent = false;
    timeUp = false;
    const action = form.querySelector("input[data-exam-action]");
    if (action) { action.parentNode.removeChild(action); }
    setSubmitDisabled(false);
    tick();
    flushAll({ background: true });
  }));

  form.addEventListener("copy", guard((event) => {
    queueEvent("copy");
    if (inLegend(event.target)) { event.preventDefault(); }
  }));
  form.addEventListener("cut", noCopy);
  form.addEventListener("contextmenu", noCopy);
  form.addEventListener("selectstart", noCopy);

  retryTimer = setInterval(guard(() => {
    if (Object.keys(queue).length) { flushAll({ background: true }); } else if (events.length) { flushEvents(); }
  }), RETRY_EVERY);

  if (offline()) { noteOffline(); }
  tick();
  flushAll();
})();

// ===== Keyboard and screen readers on the exam page (accessibility) =====================
// - The question numbers are one Tab stop: arrow keys (and Home/End) move between them, Enter
//   or a tap jumps to the question and puts the focus on its chosen (or first) answer.
// - In a question, Tab reaches the answers; arrow keys move between the options of a
//   single-choice question; Space or Enter chooses. Enter never sends the form from an answer
//   or the flag (it used to reload the page with "Save").
// - Each number says whether it is answered and flagged, not by colour only.
(() => {
  "use strict";

  const form = document.getElementById("exam-form");
  const nav = document.getElementById("navigator");
  if (!form || !nav) { return; }
  const links = Array.prototype.slice.call(nav.querySelectorAll("a[data-question]"));
  const texts = document.getElementById("exam-texts");
  const word = (name, fallback) => (texts && texts.getAttribute("data-" + name)) || fallback;
  const ANSWERED = word("answered", "已答");
  const UNANSWERED = word("unanswered", "未答");
  const FLAGGED = word("flagged", "已标记");

  function describe(link) {
    const parts = [link.textContent.trim(), link.classList.contains("answered") ? ANSWERED : UNANSWERED];
    if (link.classList.contains("flagged")) { parts.push(FLAGGED); }
    const label = parts.join(" ");
    if (link.getAttribute("aria-label") !== label) { link.setAttribute("aria-label", label); }
  }
  links.forEach(describe);
  if (typeof MutationObserver === "function") {
    new MutationObserver((changes) => {
      changes.forEach((change) => { if (change.target.tagName === "A") { describe(change.target); } });
    }).observe(nav, { subtree: true, attributes: true, attributeFilter: ["class"] });
  }

  // Roving tab stop over the numbers.
  let current = 0;
  function setCurrent(index, focus) {
    if (!links.length) { return; }
    current = Math.max(0, Math.min(links.length - 1, index));
    links.forEach((link, i) => { link.tabIndex = i === current ? 0 : -1; });
    if (focus) { links[current].focus(); }
  }
  setCurrent(0, false);
  nav.addEventListener("keydown", (event) => {
    const index = links.indexOf(event.target);
    if (index === -1 || event.altKey || event.ctrlKey || event.metaKey) { return; }
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (event.key in moves) { setCurrent(index + moves[event.key], true); } else if (event.key === "Home") { setCurrent(0, true); } else if (event.key === "End") { setCurrent(links.length - 1, true); } else { return; }
    event.preventDefault();
  });
  nav.addEventListener("focusin", (event) => {
    const index = links.indexOf(event.target);
    if (index !== -1 && index !== current) { setCurrent(index, false); }
  });

  // Jumping to a question puts the focus on its answers.
  function answerToFocus(fieldset) {
    const inputs = Array.prototype.slice.call(fieldset.querySelectorAll(".answer input"));
    return inputs.filter((input) => input.checked)[0] || inputs[0] || null;
  }
  nav.addEventListener("click", (event) => {
    const link = event.target.closest ? event.target.closest("a[data-question]") : null;
    if (!link) { return; }
    setCurrent(links.indexOf(link), false);
    const fieldset = document.getElementById("q-" + link.getAttribute("data-question"));
    const input = fieldset ? answerToFocus(fieldset) : null;
    if (!input) { return; }
    event.preventDefault();
    fieldset.scrollIntoView({ block: "start" });
    input.focus({ preventScroll: true });
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", "#" + fieldset.id); }
  });

  // Enter on an answer or a flag chooses it, as Space does, instead of sending the form.
  form.addEventListener("keydown", (event) => {
    const input = event.target;
    if (event.key !== "Enter" || !input || input.tagName !== "INPUT" || event.isComposing) { return; }
    if (input.type !== "radio" && input.type !== "checkbox") { return; }
    event.preventDefault();
    if (input.type === "radio" && input.checked) { return; }
    input.click(); // the same change event a tap makes: saved and counted as usual
  });
})();
