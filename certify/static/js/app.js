// Small progressive enhancements; every page works without them.
"use strict";
// Forms with data-confirm ask before they are sent (e.g. resetting a password).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
