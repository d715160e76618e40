// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Show HTMX failures in the page's flash area instead of failing silently.
  function flash(kind) {
    var area = document.getElementById("flash");
    if (!area) return;
    var text = area.getAttribute(kind === "offline" ? "data-offline-text" : "data-error-text");
    area.innerHTML = "";
    var p = document.createElement("p");
    p.className = "alert alert-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    area.appendChild(p);
  }
  document.addEventListener("htmx:responseError", function () { flash("error"); });
  document.addEventListener("htmx:sendError", function () { flash("offline"); });

  // Prevent double submission of forms (sign-in, sign-out) on slow connections.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    var button = form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-busy", "true");
    // Re-enable when the page is restored from the back/forward cache.
    window.addEventListener("pageshow", function () {
      form.dataset.submitting = "";
      if (button) button.removeAttribute("aria-busy");
    }, { once: true });
  });
})();
