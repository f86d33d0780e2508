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

  // Confirmations in the page (<dialog id="confirm-dialog">, modal: the rest of the page is inert; Escape or
  // Cancel cancels), without inline script: <form data-confirm="Delete x?"> or <button data-confirm="…">. The
  // dialog is titled and its confirm button labelled with the action (the button's own text). The bulk bar's
  // button (data-confirm-bulk) names the chosen action and how many instances, and lists them.
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }
  function bulkQuestion(form, submitter) {
    var select = form.querySelector("select[name=action]");
    var picked = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=server]:checked"));
    if (!select || !select.value || !picked.length) return null;  // the server says what is missing
    var action = select.options[select.selectedIndex].text;
    var template = picked.length === 1 ? submitter.dataset.confirmBulkOne : submitter.dataset.confirmBulk;
    var message = fill(template, { action: action, count: picked.length });
    if (select.value === "delete" && submitter.dataset.confirmUndone) message += " " + submitter.dataset.confirmUndone;
    return {
      title: action,
      message: message,
      items: picked.map(function (box) { var v = box.value, at = v.indexOf("|"); return at < 0 ? v : v.slice(at + 1) || v.slice(0, at); }),
      danger: select.value === "delete" || select.value === "reboot_hard",
    };
  }
  function askToConfirm(question, onConfirm, returnFocus) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(question.message)) onConfirm();
      return;
    }
    dialog.querySelector("#confirm-title").textContent = question.title;
    dialog.querySelector("#confirm-message").textContent = question.message;
    var list = dialog.querySelector(".confirm-list");
    list.textContent = "";
    (question.items || []).forEach(function (name) {
      var li = document.createElement("li");
      li.textContent = name;
      list.appendChild(li);
    });
    list.hidden = !(question.items && question.items.length);
    var ok = dialog.querySelector("[data-confirm-ok]");
    ok.textContent = question.title;
    ok.className = "btn " + (question.danger ? "danger" : "primary");
    dialog.returnValue = "";
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue === "ok") onConfirm();
      else if (returnFocus && returnFocus.isConnected) {
        // An item of a menu that has closed since: back to the menu's button.
        var menu = returnFocus.closest("details[data-menu]");
        (menu && !menu.open ? menu.querySelector("summary") : returnFocus).focus();
      }
    };
    dialog.onkeydown = function (ev) {
      // Keep Tab inside the dialog (showModal makes the page inert, but Tab could still leave for the browser).
      if (ev.key !== "Tab") return;
      var stops = Array.prototype.slice.call(dialog.querySelectorAll("button, a[href], input, select, textarea"));
      var first = stops[0], last = stops[stops.length - 1];
      if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
    };
    dialog.showModal();
    // Focus the safe choice for what cannot be undone, else the action itself.
    (question.danger ? dialog.querySelector("[data-confirm-cancel]") : ok).focus();
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.method === "dialog") return;
    var submitter = ev.submitter;
    if (form.dataset.confirmed) { delete form.dataset.confirmed; return; }
    var question = null;
    if (submitter && submitter.dataset.confirmBulk) {
      question = bulkQuestion(form, submitter);
    } else {
      var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
      if (message) {
        var label = submitter ? (submitter.textContent || submitter.value || "").trim() : "";
        question = {
          title: label || message,
          message: message,
          danger: !!(submitter && submitter.classList.contains("danger")),
        };
      }
    }
    if (!question) return;
    ev.preventDefault();
    askToConfirm(question, function () {
      form.dataset.confirmed = "1";
      if (submitter) form.requestSubmit(submitter);
      else form.requestSubmit();
      delete form.dataset.confirmed;  // (already used, unless the browser's own validation stopped the submit)
    }, submitter);
  }, true);

  // Menus (<details data-menu> with a role=menu of role=menuitem): the open menu is placed over the page
  // (position: fixed, from its button; upward when there is no room below), so a scrolling table cannot clip it.
  // Escape, Tab and a click elsewhere close it; arrow keys, Home and End move between its items; the focus
  // goes back to the button when it closes from the keyboard.
  function menuItems(wrap) {
    return Array.prototype.slice.call(wrap.querySelectorAll("[role=menuitem]"));
  }
  function placeMenu(wrap) {
    var button = wrap.querySelector("summary");
    var menu = wrap.querySelector("[role=menu]");
    if (!button || !menu) return;
    var r = button.getBoundingClientRect();
    var gap = 4, margin = 8;
    var vh = window.innerHeight, vw = document.documentElement.clientWidth;
    menu.style.maxHeight = "";
    var h = menu.offsetHeight, w = menu.offsetWidth;
    var below = vh - r.bottom - gap - margin, above = r.top - gap - margin;
    var up = h > below && above > below;
    var room = up ? above : below;
    if (h > room) {
      // Taller than the room on either side of its button (a long menu, a short window): the whole menu over the
      // window, as low as it fits, scrolling only when the window itself is shorter than the menu.
      up = false;
      var fit = vh - 2 * margin;
      if (h > fit) { menu.style.maxHeight = fit + "px"; h = fit; }
      menu.style.top = Math.max(margin, Math.min(r.bottom + gap, vh - h - margin)) + "px";
      menu.style.bottom = "";
    } else {
      menu.style.top = up ? "" : (r.bottom + gap) + "px";
      menu.style.bottom = up ? (vh - r.top + gap) + "px" : "";
    }
    menu.style.left = Math.max(margin, Math.min(r.right - w, vw - w - margin)) + "px";
    wrap.classList.toggle("up", up);
  }
  function openMenu(wrap, focus) {
    closeMenus(wrap);
    wrap.open = true;
    wrap.querySelector("summary").setAttribute("aria-expanded", "true");
    placeMenu(wrap);
    var items = menuItems(wrap);
    if (focus && items.length) items[focus === "last" ? items.length - 1 : 0].focus();
  }
  function closeMenu(wrap, refocus) {
    if (!wrap.open) return;
    wrap.open = false;
    var button = wrap.querySelector("summary");
    button.setAttribute("aria-expanded", "false");
    if (refocus) button.focus();
  }
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (wrap) {
      if (wrap !== except) closeMenu(wrap, false);
    });
  }
  document.addEventListener("click", function (ev) {
    var summary = ev.target.closest("details[data-menu] > summary");
    if (summary) {
      ev.preventDefault();
      var wrap = summary.parentElement;
      if (wrap.open) closeMenu(wrap, false);
      else openMenu(wrap, ev.detail === 0 ? "first" : null);  // detail 0: Enter or Space, not a pointer
      return;
    }
    var inside = ev.target.closest("details[data-menu]");
    closeMenus(inside && !ev.target.closest("[role=menuitem]") ? inside : null);
  });
  document.addEventListener("keydown", function (ev) {
    var wrap = ev.target.closest && ev.target.closest("details[data-menu]");
    if (!wrap) return;
    var onButton = ev.target.matches("summary");
    if (ev.key === "Escape" && wrap.open) {
      ev.preventDefault();
      closeMenu(wrap, true);
      return;
    }
    if (onButton) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        openMenu(wrap, ev.key === "ArrowUp" ? "last" : "first");
      }
      return;
    }
    var items = menuItems(wrap);
    var at = items.indexOf(ev.target);
    if (at < 0) return;
    var next = null;
    if (ev.key === "ArrowDown") next = items[(at + 1) % items.length];
    else if (ev.key === "ArrowUp") next = items[(at - 1 + items.length) % items.length];
    else if (ev.key === "Home") next = items[0];
    else if (ev.key === "End") next = items[items.length - 1];
    else if (ev.key === "Tab") { ev.preventDefault(); closeMenu(wrap, true); return; }
    if (next) { ev.preventDefault(); next.focus(); }
  });
  function placeOpenMenus() {
    document.querySelectorAll("details[data-menu][open]").forEach(placeMenu);
  }
  window.addEventListener("resize", placeOpenMenus);
  document.addEventListener("scroll", placeOpenMenus, true);

  // Length limits (issue #16): a field with a limit says it under the input (<small data-limit-for=id
  // data-limit=n>); here the input's own maxlength, which cuts a longer paste without a word, gives way to a live
  // count that says how much is over. The form still refuses an over-long value, next to the field.
  function initLimits(root) {
    root.querySelectorAll("[data-limit-for]").forEach(function (hint) {
      var input = document.getElementById(hint.dataset.limitFor);
      if (!input || input.dataset.limitReady) return;
      input.dataset.limitReady = "1";
      input.removeAttribute("maxlength");
      var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (ids.indexOf(hint.id) < 0) input.setAttribute("aria-describedby", ids.concat(hint.id).join(" "));
      var limit = parseInt(hint.dataset.limit, 10);
      var say = function (text, values) {
        return text.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
      };
      var update = function () {
        var count = Array.from(input.value).length;
        var over = count - limit;
        if (over > 0) {
          hint.textContent = say(hint.dataset.overText, { count: count, over: over, limit: limit });
          input.setCustomValidity(hint.textContent);
          input.setAttribute("aria-invalid", "true");
        } else {
          hint.textContent = say(hint.dataset.countText, { count: count, limit: limit });
          input.setCustomValidity("");
          if (!input.closest(".field.invalid")) input.removeAttribute("aria-invalid");
        }
        hint.classList.toggle("over", over > 0);
        hint.setAttribute("role", over > 0 ? "alert" : "status");
      };
      input.addEventListener("input", update);
      if (input.value) update();
    });
  }
  // Launch (issue #18): the networks ticked become the instance's NICs in the order they were ticked. The hidden
  // network_order keeps that order for the server and each ticked network shows its number ("NIC 1"); the listener
  // sits on the fieldset so that the order is set before htmx (on the form's wrapper) reads the form for the CLI.
  // Without this script the NICs follow the order listed.
  function initNetworkOrder(root) {
    root.querySelectorAll("fieldset[data-network-order]").forEach(function (box) {
      if (box.dataset.orderReady) return;
      box.dataset.orderReady = "1";
      var hidden = box.querySelector("input[name=network_order]");
      var order = (hidden.value || "").split(",").filter(Boolean);
      var sync = function () {
        var inputs = Array.from(box.querySelectorAll("input[name=network]"));
        var ticked = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
        order = order.filter(function (id) { return ticked.indexOf(id) >= 0; });
        ticked.forEach(function (id) { if (order.indexOf(id) < 0) order.push(id); });
        hidden.value = order.join(",");
        inputs.forEach(function (i) {
          var badge = i.closest("li").querySelector("[data-nic]");
          var place = order.indexOf(i.value) + 1;
          if (!badge) return;
          badge.hidden = !place;
          badge.textContent = place ? box.dataset.nicText.replace("%(n)s", place) : "";
        });
      };
      box.addEventListener("change", sync);
      sync();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { initNetworkOrder(document); });
  document.addEventListener("htmx:load", function (ev) { initNetworkOrder(ev.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { initLimits(document); });
  document.addEventListener("htmx:load", function (ev) { initLimits(ev.detail.elt); });

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
