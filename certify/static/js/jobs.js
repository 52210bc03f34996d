// Background jobs: keep each .job-progress block (templates/jobs/_progress.html) current by
// polling GET /jobs/<id>, show the reason when a job fails, and retry it without leaving
// the page. Without this script the block shows the state at load time and a refresh link.
"use strict";

(function () {
  var POLL_MS = 1500;
  var SLOW_POLL_MS = 6000;  // after the server stopped answering

  function setup(block) {
    var url = block.getAttribute("data-job-url");
    var bar = block.querySelector(".job-bar");
    var state = block.querySelector(".job-state");
    var tag = block.querySelector(".job-status-tag");
    var error = block.querySelector(".job-error");
    var retry = block.querySelector(".job-retry");
    var timer = null;

    function text(name) { return block.getAttribute(name) || ""; }

    function show(job) {
      block.setAttribute("data-job-status", job.status);
      if (tag) {
        tag.textContent = job.status_label;
        tag.className = "job-status-tag tag" +
          ({ queued: " tag-muted", done: " tag-ok", failed: " tag-bad" }[job.status] || "");
      }
      if (job.total > 0) {
        bar.max = job.total;
        bar.value = job.done;
        bar.textContent = job.done + " / " + job.total;
        state.textContent = text("data-progress-text")
          .replace("{done}", job.done).replace("{total}", job.total);
      } else if (job.status === "queued") {
        bar.removeAttribute("value");  // indeterminate: nobody has counted yet
        state.textContent = text("data-waiting-text");
      }
      if (job.status === "done") {
        bar.max = Math.max(job.total, 1);
        bar.value = bar.max;
        state.textContent = text("data-done-text");
      }
      error.textContent = job.error || "";
      error.hidden = !job.error;
      retry.hidden = job.status !== "failed";
    }

    function schedule(ms) {
      window.clearTimeout(timer);
      timer = window.setTimeout(poll, ms);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (job) {
          show(job);
          if (job.status === "queued" || job.status === "running") {
            schedule(POLL_MS);
          } else if (job.status === "done" && block.hasAttribute("data-reload-on-done")) {
            window.setTimeout(function () { window.location.reload(); }, 800);
          }
        })
        .catch(function () {
          state.textContent = text("data-offline-text");
          schedule(SLOW_POLL_MS);
        });
    }

    retry.addEventListener("submit", function (event) {
      if (!window.FormData) { return; }  // the plain form post
      event.preventDefault();
      var button = retry.querySelector("button");
      button.disabled = true;
      fetch(retry.action, {
        method: "POST",
        body: new FormData(retry),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (reply) {
        button.disabled = false;
        if (!reply.ok) {
          error.textContent = (reply.body.error && reply.body.error.message) || "";
          error.hidden = false;
          return;
        }
        show(reply.body);
        schedule(reply.body.status === "done" ? 0 : POLL_MS);
      }).catch(function () {
        button.disabled = false;
        state.textContent = text("data-offline-text");
      });
    });

    var status = block.getAttribute("data-job-status");
    if (status === "queued" || status === "running") { schedule(POLL_MS); }
  }

  if (!window.fetch) { return; }
  document.querySelectorAll(".job-progress[data-job-url]").forEach(setup);
})();
