// The provider's offer form (/provider/offers/...): only the fields the chosen kind needs
// are shown (a points price for a points exchange, time slots for a booking), and the slot
// editor gets an "add a time slot" button. Without this file every field shows and the
// editor has its blank rows; the server ignores fields that do not apply to the kind.
(function () {
  "use strict";

  var kind = document.getElementById("kind");
  if (!kind) return;

  function showKind() {
    document.querySelectorAll("[data-kinds]").forEach(function (element) {
      var wanted = element.getAttribute("data-kinds").split(" ").indexOf(kind.value) !== -1;
      element.hidden = !wanted;
    });
  }
  kind.addEventListener("change", showKind);
  showKind();

  var rows = document.getElementById("slot-rows");
  var add = document.getElementById("add-slot");
  if (!rows || !add) return;
  add.hidden = false;
  add.addEventListener("click", function () {
    var all = rows.querySelectorAll(".slot-row");
    var last = all[all.length - 1];
    var copy = last.cloneNode(true);
    var index = all.length + 1;
    copy.querySelectorAll(".slot-booked").forEach(function (note) { note.remove(); });
    copy.querySelectorAll("input, select").forEach(function (field) {
      var base = field.id.replace(/_\d+$/, "");
      var label = copy.querySelector("label[for='" + field.id + "']");
      field.id = base + "_" + index;
      if (label) label.setAttribute("for", field.id);
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
    });
    rows.appendChild(copy);
    copy.querySelector("input").focus();
  });
})();
