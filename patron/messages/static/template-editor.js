// Template editor: live preview of the unsaved fields, for a customer chosen by search.
(function () {
  "use strict";
  const form = document.getElementById("template-form");
  if (!form) return;
  const search = document.getElementById("customer-search");
  const choice = document.getElementById("customer-choice");
  const locale = document.getElementById("preview-locale");
  const error = document.getElementById("preview-error");
  const frames = [document.getElementById("frame-desktop"), document.getElementById("frame-phone")];
  let timer = null;
  let sequence = 0;

  function chosenCustomer() {
    const id = choice.value;
    document.getElementById("form-customer-id").value = id;
    const test = document.getElementById("test-customer-id");
    if (test) test.value = id;
    return id;
  }

  async function refresh() {
    const mine = ++sequence;
    const body = new FormData(form);
    body.set("customer_id", chosenCustomer());
    body.set("preview_locale", locale.value);
    let answer;
    try {
      const response = await fetch("/messages/preview", { method: "POST", body, credentials: "same-origin" });
      answer = await response.json();
    } catch (exc) {
      answer = { error: "The preview could not be loaded: " + exc };
    }
    if (mine !== sequence) return; // a newer preview is on its way
    if (answer.error) {
      error.textContent = answer.error;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    document.getElementById("preview-subject").textContent = answer.subject;
    document.getElementById("preview-preheader").textContent = answer.preheader;
    document.getElementById("preview-text").textContent = answer.text;
    for (const frame of frames) frame.srcdoc = answer.html;
    document.getElementById("preview").dataset.rendered = String(mine);
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  async function findCustomers() {
    const q = search.value.trim();
    if (!q) return;
    const response = await fetch("/messages/customers?q=" + encodeURIComponent(q), { credentials: "same-origin" });
    if (!response.ok) return;
    const found = await response.json();
    choice.replaceChildren(new Option("First customer (or a sample)", ""));
    for (const c of found) choice.add(new Option(c.label + " (#" + c.id + ")", String(c.id)));
    if (found.length) {
      choice.value = String(found[0].id);
      refresh();
    }
  }

  let searchTimer = null;
  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(findCustomers, 250);
  });
  choice.addEventListener("change", refresh);
  locale.addEventListener("input", soon);
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  const test = document.getElementById("test-form");
  if (test) test.addEventListener("submit", chosenCustomer);
  refresh();
})();
