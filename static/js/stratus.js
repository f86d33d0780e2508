// Stratus: small progressive enhancements. Every control also works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var saved = localStorage.getItem("stratus-theme");
  if (saved) document.documentElement.setAttribute("data-theme", saved);

  function init(root) {
    root.querySelectorAll("[data-autosubmit] select").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.requestSubmit(); });
    });
    root.querySelectorAll("[data-autohide]").forEach(function (el) {
      setTimeout(function () { el.remove(); }, el.classList.contains("error") ? 12000 : 6000);
    });
    var methods = root.querySelectorAll("input[name=method]");
    if (methods.length) {
      var sync = function () {
        var chosen = root.querySelector("input[name=method]:checked");
        root.querySelectorAll(".method-fields").forEach(function (box) {
          box.hidden = !chosen || box.dataset.method !== chosen.value;
        });
      };
      methods.forEach(function (m) { m.addEventListener("change", sync); });
      sync();
    }
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.closest("[data-dismiss]")) { t.closest(".toast").remove(); return; }
    var copy = t.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.getAttribute("data-copy"));
      copy.dataset.label = copy.dataset.label || copy.textContent;
      copy.textContent = "✓";
      setTimeout(function () { copy.textContent = copy.dataset.label; }, 1500);
      return;
    }
    var copyFrom = t.closest("[data-copy-from]");
    if (copyFrom && navigator.clipboard) {
      var src = document.getElementById(copyFrom.getAttribute("data-copy-from"));
      if (src) navigator.clipboard.writeText(src.value || src.textContent);
      return;
    }
    if (t.closest("[data-theme-toggle]")) {
      var dark = document.documentElement.getAttribute("data-theme") === "dark" ||
        (!document.documentElement.getAttribute("data-theme") && matchMedia("(prefers-color-scheme: dark)").matches);
      var next = dark ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      localStorage.setItem("stratus-theme", next);
    }
  });

  // Navigation on a narrow screen (issue #16): the sidebar collapses behind its "Menu" button
  // (<button data-nav-toggle aria-expanded>); the button opens and closes it, Escape closes it and gives the
  // focus back to the button. On a wide screen the stylesheet shows the links and hides the button.
  function setNav(nav, open) {
    var button = nav.querySelector("[data-nav-toggle]");
    nav.classList.toggle("open", open);
    if (button) button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    var nav = toggle.closest("[data-nav]");
    setNav(nav, !nav.classList.contains("open"));
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    var nav = document.querySelector("[data-nav].open");
    if (!nav) return;
    var button = nav.querySelector("[data-nav-toggle]");
    var inside = nav.contains(document.activeElement);
    setNav(nav, false);
    if (inside && button) button.focus();
  });

  // Select-all checkboxes for bulk actions: <input type=checkbox data-select-all="name">
  document.addEventListener("change", function (ev) {
    var all = ev.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll("input[type=checkbox][name='" + all.dataset.selectAll + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // Confirm dialogs without inline script: <form data-confirm="Delete?">
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var submitter = ev.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) ev.preventDefault();
  }, true);

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (ev) { init(ev.detail.elt); });
  // Pollers pause while the tab is hidden: htmx triggers use [document.visibilityState==='visible'] filters,
  // which need eval; instead we mark the body and let pollers check the class through hx-trigger filters off.
  document.addEventListener("visibilitychange", function () {
    document.body.classList.toggle("hidden-tab", document.visibilityState !== "visible");
    if (document.visibilityState === "visible") {
      document.querySelectorAll("[data-poll-on-visible]").forEach(function (el) { htmx.trigger(el, "stratus:visible"); });
    }
  });
  document.addEventListener("htmx:confirm", function (ev) {
    // Skip polling requests while the tab is hidden.
    var elt = ev.detail.elt;
    if (document.visibilityState !== "visible" && elt.hasAttribute("data-poll")) ev.preventDefault();
  });
})();
