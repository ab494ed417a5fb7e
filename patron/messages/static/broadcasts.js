// The broadcast wizard: one step at a time, a live audience count, a review of the choices.
(function () {
  "use strict";
  const form = document.getElementById("wizard");
  if (!form) return;
  const steps = Array.from(form.querySelectorAll(".step"));
  const countEl = document.getElementById("audience-count");
  let current = 0;
  let lastCount = null;

  function checked(name) {
    return Array.from(form.querySelectorAll(`input[name=${name}]:checked`));
  }

  function show(index) {
    steps.forEach((step, i) => { step.hidden = i !== index; });
    current = index;
    if (index === steps.length - 1) review();
  }

  async function refreshCount() {
    const include = checked("segment_ids").map((i) => i.value).join(",");
    const exclude = checked("exclude_segment_ids").map((i) => i.value).join(",");
    if (!include) { countEl.textContent = "Choose a segment."; lastCount = null; return; }
    const option = form.template_id && form.template_id.selectedOptions[0];
    const channel = option ? option.dataset.channel : "email";
    const params = new URLSearchParams({ include, exclude, channel });
    const response = await fetch(`/broadcasts/audience-count?${params}`, { credentials: "same-origin" });
    if (!response.ok) { countEl.textContent = "Could not count the audience."; return; }
    const c = await response.json();
    lastCount = c;
    countEl.textContent = `${c.within_cap} recipients (${c.members} members, ${c.consented} with consent, ` +
      `${c.not_suppressed} not suppressed, ${c.within_cap} within the frequency cap)`;
  }

  function review() {
    const when = form.querySelector("input[name=when]:checked").value;
    const option = form.template_id.selectedOptions[0];
    const schedule = when === "now" ? "Now" : when === "at" ? `At ${form.send_at.value} UTC`
      : `At ${form.local_time.value} on ${form.day.value} in each customer's time zone`;
    const rows = [
      ["Name", form.name.value],
      ["Segments", checked("segment_ids").map((i) => i.dataset.name).join(", ")],
      ["Except", checked("exclude_segment_ids").map((i) => i.dataset.name).join(", ") || "—"],
      ["Recipients", lastCount ? String(lastCount.within_cap) : "—"],
      ["Template", option ? option.textContent : "—"],
      ["When", schedule],
    ];
    const list = document.getElementById("review");
    list.replaceChildren();
    for (const [label, value] of rows) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = value;
      dd.dataset.field = label.toLowerCase();
      list.append(dt, dd);
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "segment_ids" || event.target.name === "exclude_segment_ids") refreshCount();
  });
  form.querySelectorAll("[data-next]").forEach((b) => b.addEventListener("click", () => {
    if (current === 0 && (!form.name.value.trim() || !checked("segment_ids").length)) {
      countEl.textContent = "Give a name and choose at least one segment."; return;
    }
    show(current + 1);
  }));
  form.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", () => show(current - 1)));
})();
