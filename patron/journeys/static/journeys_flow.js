// Journey builder, drawing: trigger settings, the step cards with their branch columns, live
// counts, errors next to the named step, and the dry run. The model lives in journeys.js.
(function () {
  "use strict";
  var jb = window.JourneyBuilder;
  if (!jb) { return; }
  var p = jb.parts, el = p.el, input = p.input, select = p.select, button = p.button, label = p.label;
  var data = p.data, model = jb.model;
  var LABELS = { send: "Send a message", wait: "Wait", wait_until: "Wait until", wait_for: "Wait for",
    branch: "Branch", split: "Random split", update_profile: "Update profile", webhook: "Call a webhook",
    notify: "Notify the team", exit: "Exit" };
  var addable = data.step_types.filter(function (t) { return p.FORMS.indexOf(t) >= 0; });
  data.errors.forEach(function (e) { p.errors[e.step || "$"] = e.message; });

  function opt(list) { return list.map(function (x) { return [x, x]; }); }
  function numberOrNull(v) { return v === "" ? null : Number(v); }

  // Weekday checkboxes writing `weekdays` (null: every day) on an object.
  function weekdayBoxes(row, f) {
    p.DAYS.forEach(function (d, i) {
      var c = el("input", { type: "checkbox", "data-testid": "weekday-" + i });
      c.checked = !f.weekdays || f.weekdays.indexOf(i) >= 0;
      c.addEventListener("change", function () {
        var days = (f.weekdays || [0, 1, 2, 3, 4, 5, 6]).filter(function (x) { return x !== i; });
        if (c.checked) { days.push(i); }
        f.weekdays = days.length === 7 ? null : days.sort();
      });
      row.appendChild(label(d, c));
    });
  }

  // Date, inactivity and recurring triggers (the worker's schedule enrols whoever is due).
  function scheduledFields(t, box, set) {
    if (t.type === "date") {
      t.field = t.field || "birthday";
      box.appendChild(label("Date", select([["birthday", "birthday"], ["first_order", "first order anniversary"], ["attribute", "a date attribute"]],
        t.field, function (v) { t.field = v; if (v !== "attribute") { delete t.attribute; } settings(); }, { "data-testid": "trigger-date-field" })));
      if (t.field === "attribute") {
        box.appendChild(label("Attribute", input(t.attribute, set("attribute"), { "data-testid": "trigger-attribute" })));
      }
      box.appendChild(label("Days before (-) or after", input(t.offset_days || 0, function (v) { set("offset_days")(numberOrNull(v)); },
        { type: "number", min: "-365", max: "365", class: "jb-num", "data-testid": "trigger-offset" })));
      box.appendChild(label("Local time", input(t.at || "09:00", set("at"), { type: "time", "data-testid": "trigger-at" })));
    } else if (t.type === "inactivity") {
      t.of = t.of || "order";
      t.days = t.days || 90;
      box.appendChild(label("No", select([["order", "order"], ["event", "event"]], t.of, set("of"), { "data-testid": "trigger-of" })));
      box.appendChild(label("for days", input(t.days, function (v) { set("days")(numberOrNull(v)); },
        { type: "number", min: "1", max: "3650", class: "jb-num", "data-testid": "trigger-days" })));
    } else {
      if (t.segment_id == null && data.segments.length) { t.segment_id = data.segments[0].id; }
      box.appendChild(label("Whoever is in", select(data.segments.map(function (s) { return [s.id, s.name]; }), t.segment_id,
        function (v) { t.segment_id = Number(v); }, { "data-testid": "trigger-segment" })));
      box.appendChild(label("at", input(t.at || "09:00", set("at"), { type: "time", "data-testid": "trigger-at" })));
      weekdayBoxes(box, t);
    }
  }

  function triggerFields(t) {
    var box = el("div", { class: "jb-row" });
    function set(key) { return function (v) { if (v === "" || v === null) { delete t[key]; } else { t[key] = v; } }; }
    if (t.type === "segment_entered" || t.type === "segment_exited") {
      if (t.segment_id == null && data.segments.length) { t.segment_id = data.segments[0].id; }
      box.appendChild(label("Segment", select(data.segments.map(function (s) { return [s.id, s.name]; }), t.segment_id,
        function (v) { t.segment_id = Number(v); }, { "data-testid": "trigger-segment" })));
    } else if (t.type === "lifecycle_changed") {
      var stages = [["", "any"]].concat(opt(data.stages));
      box.appendChild(label("From", select(stages, t.from, set("from"), { "data-testid": "trigger-from" })));
      box.appendChild(label("To", select(stages, t.to, set("to"), { "data-testid": "trigger-to" })));
    } else if (t.type === "event") {
      t.where = t.where || [];
      box.appendChild(label("Event name", input(t.name, set("name"), { "data-testid": "trigger-event" })));
      box.appendChild(p.whereWidget(t.where, function (list) { t.where = list; }));
    } else if (t.type === "order") {
      box.appendChild(label("Nth order", input(t.nth, function (v) { set("nth")(numberOrNull(v)); }, { type: "number", min: "1", class: "jb-num", placeholder: "any" })));
      var total = t.min_total_minor == null ? "" : t.min_total_minor / 100;
      box.appendChild(label("Total at least", input(total, function (v) { set("min_total_minor")(v === "" ? null : Math.round(Number(v) * 100)); }, { type: "number", min: "0", step: "0.01", class: "jb-num" })));
      box.appendChild(label("Product SKU", input(t.sku, set("sku"))));
      box.appendChild(label("Category", input(t.category, set("category"))));
    } else if (t.type === "date" || t.type === "inactivity" || t.type === "recurring") {
      scheduledFields(t, box, set);
    } else if (t.type !== "api") {
      box.appendChild(el("span", { class: "help", text: "Settings of this trigger are kept as saved." }));
    }
    return box;
  }

  function settings() {
    var box = document.getElementById("journey-settings");
    box.innerHTML = "";
    var top = ["$", "trigger", "entry_filter", "reentry", "goal", "exit_on", "start", "steps", "definition"];
    top.forEach(function (k) { if (p.errors[k]) { box.appendChild(el("div", { class: "jb-error", "data-testid": "settings-error", text: p.errors[k] })); } });
    var t = model.trigger;
    box.appendChild(el("div", { class: "jb-row" }, [label("Trigger", select(data.trigger_types.map(function (x) { return [x, x.replace(/_/g, " ")]; }), t.type,
      function (v) { model.trigger = { type: v }; settings(); }, { "data-testid": "trigger-type" }))]));
    box.appendChild(triggerFields(t));
    box.appendChild(el("div", { class: "jb-row" }, [document.createTextNode("Entry filter "),
      p.conditionWidget(model.entry_filter, function (tree) { model.entry_filter = tree; }, true)]));
    var r = model.reentry;
    var again = el("div", { class: "jb-row" }, [label("Re-entry", select([["never", "never"], ["after_days", "after days"], ["always", "always"]], r.policy,
      function (v) { r.policy = v; settings(); }, { "data-testid": "reentry" }))]);
    if (r.policy === "after_days") { again.appendChild(label("days", input(r.days, function (v) { r.days = Number(v); }, { type: "number", min: "1", class: "jb-num" }))); }
    box.appendChild(again);
    var g = model.goal || { type: "" };
    var goal = el("div", { class: "jb-row" }, [label("Goal", select([["", "none"], ["order", "placed an order"], ["event", "performed an event"]], g.type,
      function (v) { model.goal = v ? { type: v, within_days: g.within_days || null } : null; settings(); }, { "data-testid": "goal" }))]);
    if (model.goal) {
      if (g.type === "event") { goal.appendChild(label("event", input(g.name, function (v) { g.name = v; }))); }
      goal.appendChild(label("within days", input(g.within_days, function (v) { g.within_days = numberOrNull(v); }, { type: "number", min: "1", class: "jb-num", "data-testid": "goal-days" })));
    }
    box.appendChild(goal);
    var exits = el("div", { class: "jb-row" }, [document.createTextNode("Exit when ")]);
    [["left_segment", "they leave the trigger segment"], ["unsubscribed", "they unsubscribe"]].forEach(function (e) {
      var box2 = el("input", { type: "checkbox", "data-testid": "exit-" + e[0] });
      box2.checked = !!model.exit_on[e[0]];
      box2.addEventListener("change", function () { model.exit_on[e[0]] = box2.checked; });
      exits.appendChild(label(e[1], box2));
    });
    box.appendChild(exits);
  }

  function stepFields(node) {
    var f = node.fields, box = el("div", {});
    if (node.type === "send") {
      box.appendChild(el("div", { class: "jb-row" }, [
        label("Template", select(data.templates.map(function (t) { return [t.id, t.name]; }), f.template_id, function (v) {
          f.template_id = Number(v);
          var t = data.templates.find(function (x) { return x.id === f.template_id; });
          if (t) { f.channel = t.channel; }
        }, { "data-testid": "template" })),
        label("Kind", select(opt(["marketing", "transactional"]), f.kind, function (v) { f.kind = v; })),
      ]));
    } else if (node.type === "wait") {
      box.appendChild(el("div", { class: "jb-row" }, [document.createTextNode("for "), p.duration(f.seconds, function (s) { f.seconds = s; }, "duration")]));
    } else if (node.type === "wait_until") {
      var row = el("div", { class: "jb-row" }, [label("local time", input(f.at, function (v) { f.at = v; }, { type: "time", "data-testid": "at" }))]);
      weekdayBoxes(row, f);
      box.appendChild(row);
    } else if (node.type === "wait_for") {
      var mode = f.condition ? "condition" : "event";
      var what = el("div", { class: "jb-row" }, [select([["event", "an event"], ["condition", "a condition"]], mode, function (v) {
        if (v === "event") { f.event = { name: "", where: [] }; delete f.condition; } else { f.condition = null; delete f.event; }
      }, { "data-testid": "wait-for-kind" })]);
      if (mode === "event") {
        f.event = f.event || { name: "", where: [] };
        f.event.where = f.event.where || [];
        what.appendChild(input(f.event.name, function (v) { f.event.name = v; }, { placeholder: "event name", "data-testid": "wait-event" }));
        what.appendChild(p.whereWidget(f.event.where, function (list) { f.event.where = list; }));
      } else {
        what.appendChild(p.conditionWidget(f.condition, function (tree) { f.condition = tree; }, false));
      }
      box.appendChild(what);
      box.appendChild(el("div", { class: "jb-row" }, [document.createTextNode("at most "), p.duration(f.timeout_seconds, function (s) { f.timeout_seconds = s; }, "timeout")]));
    } else if (node.type === "branch") {
      box.appendChild(el("div", { class: "jb-row" }, [document.createTextNode("Is the customer "), p.conditionWidget(f.rules, function (tree) { f.rules = tree; }, false)]));
    } else if (node.type === "update_profile") {
      var attrs = f.attributes || {}, key = Object.keys(attrs)[0] || "";
      function setAttr(k, v) { f.attributes = {}; if (k) { f.attributes[k] = p.parseValue(v); } }
      var k = input(key, function () { setAttr(k.value, v.value); }, { placeholder: "attribute" });
      var v = input(key ? attrs[key] : "", function () { setAttr(k.value, v.value); }, { placeholder: "value" });
      function tags(name) { return input((f[name] || []).join(", "), function (t) { f[name] = t.split(",").map(function (x) { return x.trim(); }).filter(Boolean); }, { placeholder: "tag, tag" }); }
      box.appendChild(el("div", { class: "jb-row" }, [label("Set", k), v, label("add tags", tags("add_tags")), label("remove tags", tags("remove_tags"))]));
    } else if (node.type === "webhook") {
      box.appendChild(el("div", { class: "jb-row" }, [label("POST to", input(f.url, function (v) { f.url = v; },
        { type: "url", placeholder: "https://", size: "40", "data-testid": "webhook-url" })),
        el("span", { class: "help", text: "signed with PATRON_JOURNEYS_WEBHOOK_SECRET" })]));
    } else if (node.type === "notify") {
      var mail = el("input", { type: "checkbox", "data-testid": "notify-email" });
      mail.checked = !!f.email;
      mail.addEventListener("change", function () { f.email = mail.checked; });
      box.appendChild(el("div", { class: "jb-row" }, [label("Tell the team", input(f.line, function (v) { f.line = v; },
        { size: "50", maxlength: "500", placeholder: "VIP at risk", "data-testid": "notify-line" })), label("also by email", mail)]));
    } else if (node.type !== "exit") {
      box.appendChild(el("span", { class: "help", text: "Settings of this step are kept as saved." }));
    }
    return box;
  }

  function badges(node) {
    var out = [];
    var live = data.counts[node.id];
    if (live) {
      var n = (live.active || 0) + (live.waiting || 0);
      out.push(el("span", { class: "jb-count", "data-testid": "live-count", title: "enrolments at this step now", text: n + " here now" }));
    }
    var d = p.dry[node.id];
    if (d) {
      var parts = Object.keys(d.outcomes).sort().map(function (k) { return k + " " + d.outcomes[k]; });
      out.push(el("span", { class: "jb-dry", "data-testid": "dry-count", text: "dry run: " + d.reached + (parts.length ? " · " + parts.join(", ") : "") }));
    }
    return out;
  }

  function card(node, list, i) {
    if (node.type === "goto") {
      return el("div", { class: "jb-card" }, [el("span", { text: "Go to step " + node.target }),
        button("✕", function () { list.splice(i, 1); })]);
    }
    var head = el("div", { class: "jb-head" }, [el("strong", { text: LABELS[node.type] || node.type }), el("span", { class: "muted", text: node.id })]
      .concat(badges(node)).concat([
        button("↑", function () { if (i > 0) { list.splice(i - 1, 0, list.splice(i, 1)[0]); } }, { title: "move up", "data-testid": "up" }),
        button("↓", function () { if (i < list.length - 1) { list.splice(i + 1, 0, list.splice(i, 1)[0]); } }, { title: "move down", "data-testid": "down" }),
        button("✕", function () { list.splice(i, 1); }, { title: "remove", "data-testid": "remove" }),
      ]));
    var box = el("div", { class: "jb-card" + (p.errors[node.id] ? " jb-bad" : ""), "data-testid": "step", "data-step-id": node.id, "data-step-type": node.type }, [head, stepFields(node)]);
    if (p.errors[node.id]) { box.appendChild(el("div", { class: "jb-error", "data-testid": "step-error", text: p.errors[node.id] })); }
    if (node.branches) { box.appendChild(branches(node)); }
    return box;
  }

  function branches(node) {
    var cols = el("div", { class: "jb-branches" });
    node.branches.forEach(function (seq, k) {
      var name = node.type === "split" ? "Branch " + String.fromCharCode(65 + k) : p.BRANCHING[node.type][k];
      var head = el("div", { class: "jb-row" }, [el("span", { class: "jb-label", text: name })]);
      if (node.type === "split") {
        head.appendChild(input(node.percents[k], function (v) { node.percents[k] = Number(v); }, { type: "number", min: "1", max: "99", class: "jb-num", "data-testid": "percent" }));
        head.appendChild(document.createTextNode("%"));
        if (node.branches.length > 2) { head.appendChild(button("✕", function () { node.branches.splice(k, 1); node.percents.splice(k, 1); })); }
      }
      cols.appendChild(el("div", { class: "jb-branch", "data-testid": "branch", "data-branch": name }, [head, flow(seq)]));
    });
    if (node.type === "split" && node.branches.length < 10) {
      cols.appendChild(button("+ branch", function () { node.branches.push([]); node.percents.push(0); }));
    }
    return cols;
  }

  function flow(list) {
    var box = el("div", { class: "jb-flow" });
    list.forEach(function (node, i) { box.appendChild(card(node, list, i)); });
    var kind = select(addable.map(function (t) { return [t, LABELS[t] || t]; }), addable[0], function () {}, { "data-testid": "add-type" });
    box.appendChild(el("div", { class: "jb-row" }, [kind, button("+ Add step", function () { list.push(p.newNode(kind.value)); }, { "data-testid": "add-step" })]));
    return box;
  }

  jb.draw = function () {
    settings();
    var root = document.getElementById("journey-steps");
    root.innerHTML = "";
    root.appendChild(flow(model.flow));
  };

  function showDry(result) {
    var out = document.getElementById("dry-result");
    out.innerHTML = "";
    Object.keys(p.dry).forEach(function (k) { delete p.dry[k]; });
    result.steps.forEach(function (s) { p.dry[s.id] = s; });
    var money = (result.revenue_minor / 100).toFixed(2);
    out.appendChild(el("p", { "data-testid": "dry-summary", text: result.entered + " would have entered, " + result.converted + " converted (revenue " + money + ") over " + result.days + " days." }));
    var rows = result.messages.map(function (m) {
      return el("tr", {}, [el("td", { text: m.template || String(m.template_id) }), el("td", { class: "num", text: String(m.count) }), el("td", { class: "help", text: m.sample.join(", ") })]);
    });
    out.appendChild(el("table", { "data-testid": "dry-messages" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "Message" }), el("th", { text: "Would send" }), el("th", { text: "Customers (sample)" })])]), el("tbody", {}, rows)]));
    var ends = Object.keys(result.finished).map(function (k) { return k + " " + result.finished[k]; }).join(", ") || "nobody";
    out.appendChild(el("p", { class: "help", text: "Finished: " + ends + ". Considered " + result.customers + " customers (at most " + result.max_customers + ")." }));
    result.notes.forEach(function (n) { out.appendChild(el("p", { class: "help", text: n })); });
  }

  document.getElementById("dry-run").addEventListener("click", function () {
    var out = document.getElementById("dry-result");
    out.textContent = "Running…";
    var body = { definition: jb.definition(), journey_id: data.journey_id, days: Number(document.getElementById("dry-days").value) || 30 };
    fetch("/journeys/dry-run", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": p.csrf }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (r) {
        Object.keys(p.errors).forEach(function (k) { delete p.errors[k]; });
        if (r.ok) { showDry(r.body); } else {
          out.textContent = r.body.message || "The dry run failed.";
          (r.body.details || []).forEach(function (d) { if (d.step) { p.errors[d.step] = d.message; } });
        }
        jb.draw();
      })
      .catch(function () { out.textContent = "The dry run failed; try again."; });
  });

  p.form.addEventListener("submit", function () {
    document.getElementById("journey-definition").value = JSON.stringify(jb.definition());
  });
  jb.draw();
})();
