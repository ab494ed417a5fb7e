// The new-experiment form: add and remove arm rows locally (the form posts without it too).
(function () {
  "use strict";
  var rows = document.getElementById("arm-rows");
  var add = document.querySelector("[data-testid=add-arm]");
  if (!rows || !add) return;
  add.addEventListener("click", function (event) {
    event.preventDefault();
    var last = rows.querySelector("tr:last-child");
    var row = last.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) {
      input.value = input.name === "arm_send_delay_minutes" ? "0" : "";
    });
    row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
    rows.appendChild(row);
  });
  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-arm]");
    if (button && rows.children.length > 1) button.closest("tr").remove();
  });
})();
