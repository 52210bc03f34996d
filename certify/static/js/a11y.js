// Accessibility helpers on every page; each page works without them.
// 1. Larger text: the A / A+ / A++ buttons in the header scale the root font size. The choice is
//    kept in localStorage and in a cookie, so the server renders the same class on the next page
//    and nothing jumps while it loads.
// 2. Read aloud (朗读): a button on each question reads its stem and options in Mandarin with the
//    Web Speech API. It is added only when the browser has speechSynthesis.
"use strict";

(function () {
  var root = document.documentElement;

  // --- 1. text size -------------------------------------------------------------------------
  var SIZES = ["0", "1", "2"];
  var KEY = "certify.textSize";
  var COOKIE = "certify_text_size";

  function readCookie() {
    var match = document.cookie.match(/(?:^|;\s*)certify_text_size=([^;]*)/);
    return match && SIZES.indexOf(match[1]) !== -1 ? match[1] : null;
  }
  function readStored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return SIZES.indexOf(value) !== -1 ? value : null;
    } catch (e) { return null; }
  }
  function applySize(size) {
    SIZES.forEach(function (s) { root.classList.toggle("text-" + s, s === size && s !== "0"); });
    document.querySelectorAll("[data-text-size]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-text-size") === size));
    });
  }
  function keepSize(size) {
    try { window.localStorage.setItem(KEY, size); } catch (e) { /* the cookie still holds it */ }
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + size + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }

  // The cookie is what the server rendered; localStorage brings the choice back if the
  // cookie was cleared.
  var fromCookie = readCookie();
  var stored = readStored();
  if (fromCookie !== null) {
    if (stored !== fromCookie) { keepSize(fromCookie); }
  } else if (stored !== null) {
    keepSize(stored);
    applySize(stored);
  }
  document.querySelectorAll("[data-text-size]").forEach(function (button) {
    button.addEventListener("click", function () {
      var size = button.getAttribute("data-text-size");
      if (SIZES.indexOf(size) === -1) { return; }
      keepSize(size);
      applySize(size);
    });
  });

  // --- 2. read aloud ------------------------------------------------------------------------
  if (!("speechSynthesis" in window) || !window.speechSynthesis
      || typeof window.SpeechSynthesisUtterance !== "function") { return; }
  var questions = document.querySelectorAll("fieldset.question");
  if (!questions.length) { return; }

  var synth = window.speechSynthesis;
  var texts = document.getElementById("a11y-texts");
  var chinese = /^zh/i.test(root.getAttribute("lang") || "zh");
  function say(name, fallbackZh, fallbackEn) {
    var value = texts ? texts.getAttribute("data-" + name) : "";
    return value || (chinese ? fallbackZh : fallbackEn);
  }
  var READ = say("read", "朗读", "Read aloud");
  var STOP = say("stop", "停止朗读", "Stop reading");
  var ICON = '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24">'
    + '<path fill="currentColor" d="M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"/></svg>';

  function clean(text) { return (text || "").replace(/\s+/g, " ").trim(); }

  // "Stem。A，option。B，option。" — the legend without its number and type tag; true/false
  // options have no letter.
  function spokenText(fieldset) {
    var parts = [];
    var legend = fieldset.querySelector("legend");
    if (legend) {
      var copy = legend.cloneNode(true);
      copy.querySelectorAll(".qno, .tag, .visually-hidden").forEach(function (el) { el.remove(); });
      parts.push(clean(copy.textContent));
    }
    fieldset.querySelectorAll(".answer label").forEach(function (label) {
      var letterEl = label.querySelector(".letter");
      var letter = letterEl ? clean(letterEl.textContent) : "";
      var copy = label.cloneNode(true);
      copy.querySelectorAll(".letter, input").forEach(function (el) { el.remove(); });
      var option = clean(copy.textContent);
      parts.push(letter ? letter + "，" + option : option);
    });
    // The blank "（  ）" of a stem becomes a short pause; each part ends with a full stop.
    return parts.map(function (p) {
      return p.replace(/[（(]\s*[）)]/g, "，").replace(/，+\s*(?=[。.？?！!]|$)/g, "").replace(/^，+/, "");
    }).filter(Boolean).map(function (p) { return /[。.？?！!]$/.test(p) ? p : p + "。"; }).join("");
  }

  // A Mandarin voice: zh-CN first, then other Mandarin (zh-TW), never Cantonese.
  function chineseVoice() {
    var voices = [];
    try { voices = synth.getVoices() || []; } catch (e) { voices = []; }
    var norm = function (v) { return String(v.lang || "").replace("_", "-").toLowerCase(); };
    var pick = function (test) { for (var i = 0; i < voices.length; i++) { if (test(norm(voices[i]))) { return voices[i]; } } return null; };
    return pick(function (l) { return l === "zh-cn" || l === "cmn-cn" || l === "zh-hans-cn"; })
      || pick(function (l) { return /^(zh|cmn)/.test(l) && !/hk|yue|mo/.test(l); });
  }

  var speakingButton = null;
  function show(button, speaking) {
    button.querySelector(".read-aloud-label").textContent = speaking ? STOP : READ;
    button.classList.toggle("is-speaking", speaking);
  }
  function stop() {
    if (speakingButton) { show(speakingButton, false); speakingButton = null; }
    try { synth.cancel(); } catch (e) { /* nothing is playing */ }
  }
  function read(button, fieldset) {
    var again = speakingButton === button;
    stop();
    if (again) { return; } // pressing again stops
    var utterance = new window.SpeechSynthesisUtterance(spokenText(fieldset));
    utterance.lang = "zh-CN";
    var voice = chineseVoice();
    if (voice) { utterance.voice = voice; }
    utterance.rate = 0.9;
    var done = function () {
      if (speakingButton === button) { show(button, false); speakingButton = null; }
    };
    utterance.onend = done;
    utterance.onerror = done;
    speakingButton = button;
    show(button, true);
    synth.speak(utterance);
  }

  Array.prototype.forEach.call(questions, function (fieldset) {
    var legend = fieldset.querySelector("legend");
    var row = document.createElement("p");
    row.className = "read-aloud-row";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button small read-aloud";
    button.innerHTML = ICON + '<span class="read-aloud-label"></span>';
    show(button, false);
    button.addEventListener("click", function () { read(button, fieldset); });
    row.appendChild(button);
    if (fieldset.disabled) {
      // A disabled fieldset (an answered practice question) would disable the button too.
      fieldset.parentNode.insertBefore(row, fieldset);
    } else {
      fieldset.insertBefore(row, legend ? legend.nextSibling : fieldset.firstChild);
    }
  });
  window.addEventListener("pagehide", stop);
})();
