/* Idle-session warning (SPEC §13.3): two minutes before the server ends an idle session, show a
   banner whose button is the only thing that extends it. Background polling does not count. */
(function () {
  "use strict";
  var WARN_BEFORE_MS = 120 * 1000;
  var box, idleMs, warnTimer, expireTimer;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    box.hidden = true;
    warnTimer = setTimeout(function () {
      box.hidden = false;
      var button = box.querySelector("button");
      if (button) { button.focus(); }
    }, Math.max(idleMs - WARN_BEFORE_MS, 0));
    expireTimer = setTimeout(function () {
      var here = window.location.pathname + window.location.search;
      window.location.assign(box.getAttribute("data-login-url") + "?next=" + encodeURIComponent(here));
    }, idleMs);
  }

  function start() {
    box = document.getElementById("idle-warning");
    if (!box) { return; }
    idleMs = parseInt(box.getAttribute("data-idle-seconds"), 10) * 1000;
    if (!(idleMs > 0)) { return; }
    schedule();
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var headers = (event.detail && event.detail.requestConfig && event.detail.requestConfig.headers) || {};
      if (headers["X-Portal-Background"] === "1") { return; }
      if (event.detail && event.detail.successful) { schedule(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
