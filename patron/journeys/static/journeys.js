// Journey builder: a vertical flow of step cards composed with form controls; the definition
// JSON is built from them into a hidden field on submit. Also the dry run beside the steps.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  var dataNode = document.getElementById("journey-data");
  if (!dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var form = document.getElementById("journey-form");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var raw = data.definition || {};
  var steps = {};
  (raw.steps || []).forEach(function (s) { steps[s.id] = s; });
  var BRANCHING = { wait_for: ["happened", "timed out"], branch: ["yes", "no"], split: null };
  var FORMS = ["send", "wait", "wait_until", "wait_for", "branch", "split", "update_profile", "webhook",
    "notify", "exit"];
  var UNITS = [["minutes", 60], ["hours", 3600], ["days", 86400], ["weeks", 604800]];
  var DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var errors = {};
  var dry = {};
  var counter = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function parseValue(text) {
    if (/^-?\d+(\.\d+)?$/.test(text)) { return Number(text); }
    if (text === "true" || text === "false") { return text === "true"; }
    return text;
  }

  function input(value, onchange, attrs) {
    var node = el("input", attrs || {});
    node.value = value == null ? "" : String(value);
    node.addEventListener("input", function () { onchange(node.value); });
    return node;
  }

  function select(options, value, onchange, attrs) {
    var node = el("select", attrs || {});
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]), text: o[1] });
      if (String(o[0]) === String(value == null ? "" : value)) { opt.selected = true; }
      node.appendChild(opt);
    });
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  }

  function button(text, onclick, attrs) {
    var node = el("button", Object.assign({ type: "button", class: "secondary" }, attrs || {}));
    node.textContent = text;
    node.addEventListener("click", function () { onclick(); render(); });
    return node;
  }

  function label(text, control) { return el("label", {}, [document.createTextNode(text + " "), control]); }

  // A duration in seconds shown as a number and a unit.
  function duration(seconds, onchange, testid) {
    var unit = UNITS.slice().reverse().find(function (u) { return seconds && seconds % u[1] === 0; }) || UNITS[2];
    var amount = seconds ? seconds / unit[1] : "";
    var num = input(amount, update, { type: "number", min: "1", class: "jb-num", "data-testid": testid });
    var units = select(UNITS.map(function (u) { return [u[1], u[0]]; }), unit[1], update, { "data-testid": testid + "-unit" });
    function update() { onchange(Math.round(Number(num.value) * Number(units.value)) || null); }
    return el("span", { class: "jb-row" }, [num, units]);
  }

  // A rule tree as a segment membership or one attribute row; other trees are kept as saved.
  function conditionModel(tree) {
    var child = tree && tree.type === "and" && tree.children && tree.children.length === 1 ? tree.children[0] : tree;
    if (!tree) { return { mode: "none" }; }
    if (child && child.type === "segment") { return { mode: "segment", segment_id: child.segment_id }; }
    if (child && child.type === "attribute") { return { mode: "attribute", key: child.key, op: child.op, value: child.value }; }
    return { mode: "kept", tree: tree };
  }

  function conditionTree(m) {
    if (m.mode === "segment") { return { type: "and", children: [{ type: "segment", segment_id: Number(m.segment_id) }] }; }
    if (m.mode === "attribute") {
      var leaf = { type: "attribute", key: m.key || "", op: m.op || "eq" };
      if (m.op !== "is_set" && m.op !== "not_set") { leaf.value = parseValue(String(m.value == null ? "" : m.value)); }
      return { type: "and", children: [leaf] };
    }
    return m.mode === "kept" ? m.tree : null;
  }

  function conditionWidget(tree, onchange, allowNone) {
    var m = conditionModel(tree);
    var modes = (allowNone ? [["none", "everyone"]] : []).concat([["segment", "in segment"], ["attribute", "attribute"]]);
    if (m.mode === "kept") { modes.push(["kept", "rules as saved"]); }
    var box = el("span", { class: "jb-row", "data-testid": "condition" });
    function draw() {
      box.innerHTML = "";
      box.appendChild(select(modes, m.mode, function (v) {
        m = { mode: v, segment_id: data.segments.length ? data.segments[0].id : null, op: "eq" };
        onchange(conditionTree(m)); draw();
      }, { "data-testid": "condition-mode" }));
      if (m.mode === "segment") {
        box.appendChild(select(data.segments.map(function (s) { return [s.id, s.name]; }), m.segment_id,
          function (v) { m.segment_id = v; onchange(conditionTree(m)); }, { "data-testid": "segment" }));
      } else if (m.mode === "attribute") {
        box.appendChild(input(m.key, function (v) { m.key = v; onchange(conditionTree(m)); }, { placeholder: "attribute" }));
        box.appendChild(select(data.attribute_ops.map(function (o) { return [o, o]; }), m.op,
          function (v) { m.op = v; onchange(conditionTree(m)); }));
        box.appendChild(input(m.value, function (v) { m.value = v; onchange(conditionTree(m)); }, { placeholder: "value" }));
      }
    }
    draw();
    return box;
  }

  // Property filters: rows of property, operator, value.
  function whereWidget(list, onchange) {
    var box = el("div", { "data-testid": "where" });
    function draw() {
      box.innerHTML = "";
      list.forEach(function (w, i) {
        box.appendChild(el("div", { class: "jb-row" }, [
          input(w.property, function (v) { w.property = v; onchange(list); }, { placeholder: "property" }),
          select(data.where_ops.map(function (o) { return [o, o]; }), w.op, function (v) { w.op = v; onchange(list); }),
          input(w.value, function (v) { w.value = parseValue(v); onchange(list); }, { placeholder: "value" }),
          button("✕", function () { list.splice(i, 1); onchange(list); }),
        ]));
      });
      box.appendChild(button("+ property filter", function () { list.push({ property: "", op: "eq", value: "" }); onchange(list); }));
    }
    draw();
    return box;
  }

  // Definition -> a tree of sequences: a branching step holds one sequence per branch, which
  // goes on at the step where its branches meet again; a step seen twice becomes a "go to".
  function targetsOf(s) {
    if (s.type === "wait_for") { return [s.happened, s.timed_out]; }
    if (s.type === "branch") { return [s.yes, s.no]; }
    if (s.type === "split") { return (s.branches || []).map(function (b) { return b.next; }); }
    if (s.type === "exit") { return []; }
    return [s.next];
  }

  function reach(id) {
    var order = [], seen = {}, todo = [id];
    while (todo.length) {
      var cur = todo.shift();
      if (!cur || seen[cur] || !steps[cur]) { continue; }
      seen[cur] = true; order.push(cur);
      targetsOf(steps[cur]).forEach(function (t) { todo.push(t); });
    }
    return { order: order, seen: seen };
  }

  function joinOf(s) {
    var all = targetsOf(s).map(reach);
    return all[0].order.find(function (id) { return all.every(function (r) { return r.seen[id]; }); }) || null;
  }

  function sequence(id, stop, placed) {
    var out = [];
    while (id && id !== stop && steps[id]) {
      if (placed[id]) { out.push({ type: "goto", target: id }); break; }
      placed[id] = true;
      var s = steps[id];
      var node = { id: id, type: s.type, fields: Object.assign({}, s) };
      ["id", "type", "next", "happened", "timed_out", "yes", "no"].forEach(function (k) { delete node.fields[k]; });
      out.push(node);
      if (s.type in BRANCHING) {
        var join = joinOf(s);
        node.branches = targetsOf(s).map(function (t) { return sequence(t, join, placed); });
        if (s.type === "split") { node.percents = s.branches.map(function (b) { return b.percent; }); delete node.fields.branches; }
        id = join;
      } else if (s.type === "exit") { break; } else { id = s.next; }
    }
    return out;
  }

  var model = {
    trigger: Object.assign({ type: "segment_entered" }, raw.trigger || {}),
    entry_filter: raw.entry_filter || null,
    reentry: Object.assign({ policy: "never" }, raw.reentry || {}),
    goal: raw.goal || null,
    exit_on: Object.assign({}, raw.exit_on || {}),
    flow: sequence(raw.start || (raw.steps && raw.steps[0] && raw.steps[0].id), null, {}),
  };

  // The tree -> a definition; an empty branch at the very end gets an exit step.
  function firstId(list, cont) {
    if (!list.length) { return cont; }
    return list[0].type === "goto" ? list[0].target : list[0].id;
  }

  function compile(list, cont, out) {
    list.forEach(function (node, i) {
      if (node.type === "goto") { return; }
      var next = firstId(list.slice(i + 1), cont);
      var step = Object.assign({}, node.fields, { id: node.id, type: node.type });
      out.push(step);
      if (!node.branches) {
        if (next && node.type !== "exit") { step.next = next; }
        return;
      }
      var targets = node.branches.map(function (b, k) {
        var target = firstId(b, next);
        if (!target) { target = node.id + "_end_" + k; out.push({ id: target, type: "exit" }); }
        compile(b, next, out);
        return target;
      });
      if (node.type === "wait_for") { step.happened = targets[0]; step.timed_out = targets[1]; }
      if (node.type === "branch") { step.yes = targets[0]; step.no = targets[1]; }
      if (node.type === "split") {
        step.branches = targets.map(function (t, k) { return { percent: Number(node.percents[k]) || 0, next: t }; });
      }
    });
    return out;
  }

  function definition() {
    var out = { trigger: model.trigger, reentry: model.reentry, exit_on: model.exit_on, goal: model.goal, steps: [] };
    if (model.entry_filter) { out.entry_filter = model.entry_filter; }
    out.steps = compile(model.flow, null, []);
    out.start = firstId(model.flow, null) || undefined;
    return out;
  }

  function newNode(type) {
    var id;
    do { counter += 1; id = type + "_" + counter; } while (steps[id] || usedIds()[id]);
    var node = { id: id, type: type, fields: {} };
    var t = data.templates[0];
    if (type === "send") { node.fields = { template_id: t ? t.id : null, kind: t ? t.kind : "marketing", channel: t ? t.channel : "email" }; }
    if (type === "wait") { node.fields = { seconds: 86400 }; }
    if (type === "wait_until") { node.fields = { at: "09:00" }; }
    if (type === "wait_for") { node.fields = { event: { name: "", where: [] }, timeout_seconds: 7 * 86400 }; node.branches = [[], []]; }
    if (type === "branch") { node.fields = { rules: conditionTree({ mode: "segment", segment_id: data.segments.length ? data.segments[0].id : null }) }; node.branches = [[], []]; }
    if (type === "split") { node.percents = [50, 50]; node.branches = [[], []]; }
    if (type === "update_profile") { node.fields = { add_tags: [] }; }
    if (type === "webhook") { node.fields = { url: "", data: {} }; }
    if (type === "notify") { node.fields = { line: "", email: false }; }
    return node;
  }

  function usedIds() {
    var ids = {};
    (function walk(list) { list.forEach(function (n) { ids[n.id] = true; (n.branches || []).forEach(walk); }); })(model.flow);
    return ids;
  }

  window.JourneyBuilder = { definition: definition, model: model, parts: {
    el: el, input: input, select: select, button: button, label: label, duration: duration,
    conditionWidget: conditionWidget, whereWidget: whereWidget, newNode: newNode, FORMS: FORMS,
    BRANCHING: BRANCHING, DAYS: DAYS, data: data, errors: errors, dry: dry, csrf: csrf, form: form,
    parseValue: parseValue,
  } };
  function render() { if (window.JourneyBuilder.draw) { window.JourneyBuilder.draw(); } }
})();
