// Certificate pages: copy/share the check link, and "issue all" with a progress bar.
// Every page works without this file: the link can be selected by hand and the issue form
// posts normally (issuing everything in one request).
"use strict";

// Copy and share buttons stay hidden until this script can make them work.
(function () {
  function linkValue(id) {
    var input = document.getElementById(id);
    return input ? input.value : "";
  }

  function say(button, text) {
    var state = button.parentNode.querySelector(".copy-state");
    if (state) { state.textContent = text; }
  }

  function copyByHand(id) {
    var input = document.getElementById(id);
    if (!input) { return false; }
    input.focus();
    input.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var id = button.getAttribute("data-copy");
      var done = function () { say(button, button.getAttribute("data-copied")); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(linkValue(id)).then(done, function () {
          if (copyByHand(id)) { done(); }
        });
      } else if (copyByHand(id)) {
        done();
      }
    });
  });

  if (navigator.share) {
    document.querySelectorAll("[data-share]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({
          title: button.getAttribute("data-share-title") || document.title,
          url: linkValue(button.getAttribute("data-share"))
        }).catch(function () { /* the person closed the share sheet */ });
      });
    });
  }
})();

// "Issue all": ask the server for the next few certificates until none remain.
(function () {
  var form = document.querySelector("form[data-issue-chunks]");
  if (!form) { return; }
  var button = form.querySelector("button[type=submit]");
  var state = form.querySelector(".issue-state");
  var problemList = form.querySelector(".issue-problems");
  var progress = document.querySelector(".issue-progress");
  var issuedCell = document.querySelector("[data-issued]");
  var remainingCell = document.querySelector("[data-remaining]");

  function show(done, total, remaining) {
    if (progress) { progress.max = total; progress.value = done; progress.textContent = done + " / " + total; }
    if (issuedCell) { issuedCell.textContent = done; }
    if (remainingCell) { remainingCell.textContent = remaining; }
    state.textContent = form.getAttribute("data-progress-text")
      .replace("{done}", done).replace("{total}", total);
  }

  function listProblems(problems) {
    (problems || []).forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      problemList.appendChild(item);
    });
  }

  function fail(message) {
    state.textContent = message || form.getAttribute("data-error-text");
    button.disabled = false;
  }

  function next() {
    var data = new FormData(form);
    data.append("chunk", "1");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (reply) {
      var body = reply.body || {};
      if (!reply.ok) {
        fail(body.error && body.error.message);
        return;
      }
      show(body.total - body.remaining, body.total, body.remaining);
      listProblems(body.problems);
      if (body.remaining === 0) {
        state.textContent = form.getAttribute("data-done-text");
        window.setTimeout(function () { window.location.reload(); }, 800);
      } else if (body.issued > 0) {
        next();
      } else {
        button.disabled = false;  // only problems left: they are listed above
      }
    }).catch(function () { fail(); });
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch || !window.FormData) { return; }  // old browser: the plain form post
    event.preventDefault();
    button.disabled = true;
    problemList.textContent = "";
    next();
  });
})();
