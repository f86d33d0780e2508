// The add-rule form of a security group's page: the custom fields only for a custom rule, the CIDR or the group
// field for the remote chosen. Without this script every field shows, and the server ignores those not used.
(function () {
  "use strict";
  function sync(form) {
    var preset = form.querySelector("select[name=preset]");
    var custom = form.querySelector("[data-custom]");
    if (preset && custom) {
      custom.hidden = preset.value !== "custom";
      var note = custom.querySelector("[data-custom-note]");
      if (note) note.hidden = true;
    }
    var remote = form.querySelector("input[name=remote]:checked");
    form.querySelectorAll("[data-remote]").forEach(function (box) {
      box.hidden = !remote || box.dataset.remote !== remote.value;
    });
  }
  function init() {
    document.querySelectorAll("form[data-rule-form]").forEach(function (form) {
      sync(form);
      form.addEventListener("change", function () { sync(form); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
