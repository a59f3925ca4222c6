// The site's behaviour, from one static file (the content security policy allows no inline
// script and no inline event handler). Every page works without it; it only adds comfort.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The menu button of narrow screens opens and closes the navigation.
  document.querySelectorAll(".menu-button").forEach(function (button) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    });
  });

  // Confirmations asked before a destructive button posts (data-confirm on the form).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // "Select all" checkboxes (data-select-all names the checkboxes they tick): shown only
  // where scripts run, since without them they would do nothing.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    var boxes = all.form.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });

  // A form sent back with errors: the focus goes to its error summary, which links to each
  // field, so a keyboard or screen reader user hears what went wrong first.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
})();
