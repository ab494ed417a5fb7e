// Segment rule builder: composes the rule tree with form controls and shows a live count.
(function () {
  "use strict";
  var dataNode = document.getElementById("segment-data");
  if (!dataNode) { return; }
  var data = JSON.parse(dataNode.textContent);
  var cat = data.catalogue;
  var entries = {};
  cat.conditions.forEach(function (e) { entries[e.key] = e; });
  var form = document.getElementById("segment-form");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var root = document.getElementById("segment-builder");
  var timer = null;
  var requestNo = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function getPath(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function setPath(obj, path, value) {
    var keys = path.split(".");
    var o = obj;
    keys.slice(0, -1).forEach(function (k, i) {
      var nextIsIndex = /^\d+$/.test(keys[i + 1]);
      if (o[k] == null) { o[k] = nextIsIndex ? [] : {}; }
      o = o[k];
    });
    o[keys[keys.length - 1]] = value;
  }

  // Which catalogue entry a stored condition belongs to: the one whose template matches best.
  function entryFor(cond) {
    var best = null, score = -1;
    cat.conditions.forEach(function (e) {
      var keys = Object.keys(e.template);
      var ok = keys.every(function (k) { return cond[k] === e.template[k]; });
      if (ok && keys.length > score) { best = e; score = keys.length; }
    });
    return best;
  }

  // Units: money is stored in cents and entered in currency; percents are stored as 0-1 shares.
  function toStored(param, number) {
    if (number === null || isNaN(number)) { return number; }
    if (param.unit === "money") { return Math.round(number * 100); }
    if (param.unit === "percent") { return Math.round(number * 1e7) / 1e9; }
    return number;
  }

  function toShown(param, value) {
    if (typeof value !== "number") { return value; }
    if (param.unit === "money") { return Number((value / 100).toFixed(2)); }
    if (param.unit === "percent") { return Number((value * 100).toPrecision(12)); }
    return value;
  }

  // UI model: groups {kind: "group", type, children} and conditions {kind: "cond", key, values}.
  function fromRules(node) {
    if (node && (node.type === "and" || node.type === "or" || node.type === "not")) {
      return { kind: "group", type: node.type, children: (node.children || []).map(fromRules) };
    }
    var entry = entryFor(node || {});
    if (!entry) { return { kind: "raw", json: node }; }
    var values = {};
    entry.params.forEach(function (p) {
      var v = getPath(node, p.name);
      if (v == null) { return; }
      if (Array.isArray(v)) {
        var shown = v.map(function (x) { return String(toShown(p, x)); });
        values[p.name] = p.options ? shown : shown.join(", ");
      } else {
        values[p.name] = String(toShown(p, v));
      }
    });
    return { kind: "cond", key: entry.key, values: values };
  }

  function valueInput(entry, param, values) {
    var op = values.op;
    if ((param.hide_for || []).indexOf(op) >= 0) { return null; }
    if ((param.days_for || []).indexOf(op) >= 0) { return "days"; }
    if ((param.list_for || []).indexOf(op) >= 0) { return "list"; }
    return param.input;
  }

  function scalar(text, numeric) {
    var t = text.trim();
    if (numeric) { return t === "" ? null : Number(t); }
    return t;
  }

  function jsonScalar(text) {
    var t = text.trim();
    if (t === "true") { return true; }
    if (t === "false") { return false; }
    if (t !== "" && !isNaN(Number(t))) { return Number(t); }
    return t;
  }

  function toRules(node) {
    if (node.kind === "raw") { return node.json; }
    if (node.kind === "group") {
      return { type: node.type, children: node.children.map(toRules) };
    }
    var entry = entries[node.key];
    var out = JSON.parse(JSON.stringify(entry.template));
    entry.params.forEach(function (p) {
      var kind = valueInput(entry, p, node.values);
      var text = node.values[p.name];
      if (kind === null || text == null || (String(text).trim() === "" && p.optional)) { return; }
      var value;
      if (kind === "list") {
        var items = Array.isArray(text) ? text : String(text).split(",");
        value = items.map(function (s) { return String(s).trim(); })
          .filter(function (s) { return s !== ""; })
          .map(function (s) { return p.input === "number" ? toStored(p, Number(s)) : (p.input === "json" ? jsonScalar(s) : s); });
      } else if (kind === "days" || kind === "segment") {
        value = scalar(String(text), true);
      } else if (kind === "number") {
        value = toStored(p, scalar(String(text), true));
      } else if (kind === "json") {
        value = jsonScalar(String(text));
      } else {
        value = String(text).trim();
      }
      setPath(out, p.name, value);
      Object.keys(p.fixed || {}).forEach(function (k) { setPath(out, k, p.fixed[k]); });
    });
    return out;
  }

  function changed() {
    document.getElementById("segment-rules").value = JSON.stringify(toRules(state));
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  }

  function fieldSelect(node) {
    var select = el("select", { "class": "seg-field", "aria-label": "field", "data-testid": "field" });
    var groups = {};
    cat.conditions.forEach(function (e) {
      if (!groups[e.group]) {
        groups[e.group] = el("optgroup", { label: e.group });
        select.appendChild(groups[e.group]);
      }
      groups[e.group].appendChild(el("option", { value: e.key, text: e.label }));
    });
    select.value = node.key;
    select.addEventListener("change", function () {
      node.key = select.value;
      node.values = {};
      render();
      changed();
    });
    return select;
  }

  function paramControl(entry, param, node) {
    var kind = valueInput(entry, param, node.values);
    if (kind === null) { return null; }
    var control;
    if (param.options && kind === "list" && param.input !== "select") {
      control = el("select", { multiple: "multiple", size: String(Math.min(param.options.length, 6)) });
      var chosen = node.values[param.name];
      chosen = Array.isArray(chosen) ? chosen : (chosen ? String(chosen).split(",").map(function (s) { return s.trim(); }) : []);
      param.options.forEach(function (o) {
        var option = el("option", { value: String(o[0]), text: o[1] });
        option.selected = chosen.indexOf(String(o[0])) >= 0;
        control.appendChild(option);
      });
      node.values[param.name] = chosen;
      return finishControl(control, param, node, function () {
        return Array.prototype.filter.call(control.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      });
    }
    if (param.options && kind !== "days") { kind = "select"; }
    if (kind === "select" || kind === "segment") {
      var options = kind === "segment" ? cat.segments : param.options;
      control = el("select", {});
      options.forEach(function (o) { control.appendChild(el("option", { value: String(o[0]), text: o[1] })); });
      var known = options.some(function (o) { return String(o[0]) === node.values[param.name]; });
      if ((node.values[param.name] == null || !known) && options.length) { node.values[param.name] = String(options[0][0]); }
    } else {
      var type = { number: "number", days: "number", date: "date" }[kind] || "text";
      var hint = { money: "amount, e.g. 49.90", percent: "percent, e.g. 50" }[param.unit];
      control = el("input", { type: type, placeholder: kind === "days" ? "days" : (kind === "list" ? "a, b, c" : (hint || param.label)) });
      if (type === "number" && kind !== "days" && param.unit) { control.setAttribute("step", "any"); }
      if (kind === "list" || param.input === "json") { control.className = "wide"; }
      if (node.values[param.name] == null && param["default"] != null) { node.values[param.name] = String(param["default"]); }
      if (param.suggest) {
        var listId = "suggest-" + entry.key.replace(/\W/g, "-");
        if (!document.getElementById(listId)) {
          var dl = el("datalist", { id: listId });
          param.suggest.forEach(function (s) { dl.appendChild(el("option", { value: s })); });
          document.body.appendChild(dl);
        }
        control.setAttribute("list", listId);
      }
    }
    if (node.values[param.name] != null) { control.value = node.values[param.name]; }
    var unit = { money: "in currency", percent: "%" }[kind === "number" ? param.unit : ""];
    var wrapped = finishControl(control, param, node, function () { return control.value; });
    if (!unit) { return wrapped; }
    return el("span", { "class": "seg-unit" }, [wrapped, el("span", { "class": "help", text: unit })]);
  }

  function finishControl(control, param, node, read) {
    control.setAttribute("data-param", param.name);
    control.setAttribute("aria-label", param.label || param.name);
    control.addEventListener(control.tagName === "SELECT" ? "change" : "input", function () {
      node.values[param.name] = read();
      if (param.name === "op") { render(); }
      changed();
    });
    return control;
  }

  function removeButton(parent, node) {
    var button = el("button", { type: "button", "class": "secondary", title: "Remove", text: "✕" });
    button.addEventListener("click", function () {
      parent.children.splice(parent.children.indexOf(node), 1);
      render();
      changed();
    });
    return button;
  }

  function renderCond(node, parent) {
    var row = el("div", { "class": "seg-cond", "data-testid": "condition" });
    if (node.kind === "raw") {
      row.appendChild(el("code", { text: JSON.stringify(node.json) }));
      row.appendChild(el("span", { "class": "help", text: "(edit through the API)" }));
    } else {
      var entry = entries[node.key];
      row.appendChild(fieldSelect(node));
      entry.params.forEach(function (p) {
        var control = paramControl(entry, p, node);
        if (control) { row.appendChild(control); }
      });
      if (entry.help) { row.appendChild(el("span", { "class": "help", "data-testid": "condition-help", text: entry.help })); }
    }
    row.appendChild(removeButton(parent, node));
    return row;
  }

  function renderGroup(node, parent) {
    var box = el("div", { "class": "seg-group", "data-testid": "group" });
    var type = el("select", { "aria-label": "match", "data-testid": "group-type" });
    cat.groups.forEach(function (g) { type.appendChild(el("option", { value: g[0], text: "Match " + g[1] })); });
    type.value = node.type;
    type.addEventListener("change", function () { node.type = type.value; changed(); });
    var addCond = el("button", { type: "button", "class": "secondary", "data-testid": "add-condition", text: "+ Condition" });
    addCond.addEventListener("click", function () {
      node.children.push({ kind: "cond", key: cat.conditions[0].key, values: {} });
      render();
      changed();
    });
    var addGroup = el("button", { type: "button", "class": "secondary", "data-testid": "add-group", text: "+ Group" });
    addGroup.addEventListener("click", function () {
      node.children.push({ kind: "group", type: "or", children: [{ kind: "cond", key: cat.conditions[0].key, values: {} }] });
      render();
      changed();
    });
    var head = el("div", { "class": "seg-head" }, [type, addCond, addGroup]);
    if (parent) { head.appendChild(removeButton(parent, node)); }
    box.appendChild(head);
    node.children.forEach(function (child) {
      box.appendChild(child.kind === "group" ? renderGroup(child, node) : renderCond(child, node));
    });
    if (!node.children.length) { box.appendChild(el("p", { "class": "help", text: "No rules yet: add a condition." })); }
    return box;
  }

  function render() {
    root.innerHTML = "";
    root.appendChild(renderGroup(state, null));
  }

  function showErrors(list) {
    var ul = document.getElementById("segment-errors");
    ul.innerHTML = "";
    list.forEach(function (d) { ul.appendChild(el("li", { text: (d.path ? d.path + ": " : "") + d.message })); });
  }

  function showPreview(body) {
    document.getElementById("segment-count").textContent = body.count.toLocaleString("en-US");
    var tbody = document.querySelector("#segment-preview tbody");
    tbody.innerHTML = "";
    body.customers.forEach(function (c) {
      tbody.appendChild(el("tr", {}, [
        el("td", {}, [el("a", { href: "/customers/" + c.id, text: c.name || c.external_id })]),
        el("td", { text: c.email || "" }),
        el("td", { "class": "help", text: c.reasons.join("; ") }),
      ]));
    });
  }

  function showEmpty() {
    document.getElementById("segment-count").textContent = "–";
    document.querySelector("#segment-preview tbody").innerHTML = "";
    showErrors([]);
  }

  function preview() {
    var rules = toRules(state);
    if (!state.children.length) { requestNo++; showEmpty(); return; }
    var mine = ++requestNo;
    fetch("/segments/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ rules: rules }),
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; },
        function () {
          // Not JSON (e.g. an error page): say what the server answered, not "unreachable".
          var text = "the preview failed (HTTP " + response.status + "); check the conditions";
          return { ok: false, body: { message: text } };
        });
    }).then(function (result) {
      if (mine !== requestNo) { return; }
      if (result.ok) {
        showErrors([]);
        showPreview(result.body);
      } else {
        document.getElementById("segment-count").textContent = "–";
        showErrors(result.body.details || [{ path: "", message: result.body.message || "error" }]);
      }
    }).catch(function () {
      showErrors([{ path: "", message: "could not reach the server" }]);
    });
  }

  var state = fromRules(data.rules);
  if (state.kind !== "group") { state = { kind: "group", type: "and", children: [state] }; }
  form.addEventListener("submit", function () {
    document.getElementById("segment-rules").value = JSON.stringify(toRules(state));
  });
  // Confirmation of destructive forms (no inline handlers: the CSP forbids inline script).
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  render();
  changed();
}());
