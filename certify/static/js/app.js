// Small progressive enhancements; every page works without them.
"use strict";
// Forms with data-confirm ask before they are sent (e.g. resetting a password).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Mock exam hand-in: say how many questions are unanswered and ask first. Without this
// script the server asks on a page of its own.
(function () {
  var form = document.getElementById("mock-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.value !== "submit") { return; }
    var open = 0;
    form.querySelectorAll("fieldset.question").forEach(function (question) {
      if (!question.querySelector("input:checked")) { open += 1; }
    });
    var message = open
      ? form.getAttribute("data-unanswered").replace("{n}", String(open))
      : form.getAttribute("data-all-answered");
    if (window.confirm(message)) {
      form.elements.confirmed.value = "1";
    } else {
      event.preventDefault();
    }
  });
})();

// Mock exam clock: shows minutes and seconds left; hands the paper in when time is up.
// The server keeps the real deadline; this only displays it.
(function () {
  var timer = document.querySelector(".timer[data-remaining]");
  if (!timer) { return; }
  var end = Date.now() + 1000 * parseInt(timer.getAttribute("data-remaining"), 10);
  var form = document.getElementById("mock-form");
  var label = timer.textContent.replace(/[0-9]+.*$/, "").trim();
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    timer.textContent = label + " " + m + ":" + (s < 10 ? "0" : "") + s;
    if (left === 0 && form && form.getAttribute("data-autosubmit")) {
      form.removeAttribute("data-autosubmit");
      var action = document.createElement("input");
      action.type = "hidden"; action.name = "action"; action.value = "submit";
      form.appendChild(action);
      form.elements.confirmed.value = "1";  // time is up: hand in without asking
      form.submit();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();

// After hand-in the phone no longer needs the exam's local queue, flags or events.
(function () {
  var done = document.querySelector("[data-clear-exam]");
  if (!done) { return; }
  var prefix = "certify.exam." + done.getAttribute("data-clear-exam") + ".";
  try {
    ["queue", "flags", "events"].forEach(function (name) { window.localStorage.removeItem(prefix + name); });
    window.sessionStorage.removeItem(prefix + "autosubmit");
  } catch (e) { /* storage unavailable: nothing was kept */ }
})();

// "Select all / none" links for a form's checkboxes (the endorsement submit page).
document.querySelectorAll("[data-select]").forEach(function (link) {
  link.addEventListener("click", function (event) {
    var form = link.closest("form") || document;
    event.preventDefault();
    var on = link.getAttribute("data-select") === "all";
    form.querySelectorAll("input[name=numbers]").forEach(function (box) { box.checked = on; });
  });
});
