// Line and bar charts drawn as SVG from JSON embedded in the page. No dependencies, no build.
//
// Markup (see evaluation/templates/evaluation/scorecard_parts.html, macro `chart`):
//   <figure class="chart">
//     <figcaption id="c1-title">…</figcaption>
//     <div class="chart-canvas" data-chart="c1-data" data-empty="No data yet"></div>
//     <script type="application/json" id="c1-data">{"type": "line", …}</script>
//     <details class="chart-table"><summary>…</summary><table>…</table></details>  (the same numbers)
//   </figure>
// Data: {"type": "line" | "bar", "labels": [..], "series": [{"name": "..", "values": [number | null, ..]}],
//        "min": 1, "max": 5, "decimals": 1, "unit": "", "stacked": false, "palette": "ordinal", "summary": "text for screen readers"}
// A null value is a gap in a line and no bar. The SVG is role="img" with an aria-label; the
// table beside it carries the numbers for anyone who cannot see the drawing.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var HEIGHT = 240, PAD = { top: 14, right: 14, bottom: 40, left: 44 };

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) if (Object.prototype.hasOwnProperty.call(attrs, key)) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    var node = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    node.textContent = content;
    return node;
  }

  function fmt(value, data) {
    if (value === null || value === undefined) return "–";
    return Number(value).toFixed(data.decimals === undefined ? 1 : data.decimals) + (data.unit || "");
  }

  // Round numbers for the y axis: about five ticks from min to max.
  function ticks(min, max) {
    var span = max - min || 1, step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    [1, 2, 2.5, 5, 10].some(function (m) { if (span / (step * m) <= 6) { step *= m; return true; } return false; });
    var out = [];
    for (var v = Math.ceil(min / step) * step; v <= max + step / 1e6; v += step) out.push(+v.toFixed(6));
    return out;
  }

  function bounds(data) {
    var values = [];
    data.series.forEach(function (s, i) {
      s.values.forEach(function (v, j) {
        if (v === null || v === undefined) return;
        if (data.stacked) values[j] = (values[j] || 0) + v; else values.push(v);
      });
    });
    values = values.filter(function (v) { return v !== undefined; });
    var min = data.min !== undefined && data.min !== null ? data.min : Math.min.apply(null, values.concat([0]));
    var max = data.max !== undefined && data.max !== null ? data.max : Math.max.apply(null, values.concat([min + 1]));
    if (data.max === undefined || data.max === null) max = max + (max - min) * 0.08;
    return { min: min, max: max };
  }

  function frame(svg, data, width, b) {
    var plotH = HEIGHT - PAD.top - PAD.bottom, y = function (v) { return PAD.top + plotH * (1 - (v - b.min) / (b.max - b.min)); };
    var axis = el("g", { "class": "chart-axis", "aria-hidden": "true" }, svg);
    ticks(b.min, b.max).forEach(function (t) {
      el("line", { x1: PAD.left, x2: width - PAD.right, y1: y(t), y2: y(t), "class": "chart-rule" }, axis);
      text(axis, PAD.left - 6, y(t) + 4, fmt(t, { decimals: Math.abs(t % 1) > 1e-9 ? 1 : 0, unit: "" }),
           { "text-anchor": "end" });
    });
    return y;
  }

  function xLabels(svg, data, width, xOf) {
    var axis = el("g", { "class": "chart-axis chart-xaxis", "aria-hidden": "true" }, svg);
    var room = (width - PAD.left - PAD.right) / Math.max(1, data.labels.length);
    var every = Math.max(1, Math.ceil(56 / room));
    data.labels.forEach(function (label, i) {
      if (i % every && i !== data.labels.length - 1) return;
      var shown = String(label).length > 8 && room < 70 ? String(label).slice(0, 7) + "…" : String(label);
      var node = text(axis, xOf(i), HEIGHT - PAD.bottom + 18, shown, { "text-anchor": "middle" });
      el("title", {}, node).textContent = label;
    });
  }

  function line(svg, data, width) {
    var b = bounds(data), y = frame(svg, data, width, b), n = data.labels.length;
    var plotW = width - PAD.left - PAD.right;
    var x = function (i) { return PAD.left + (n === 1 ? plotW / 2 : plotW * i / (n - 1)); };
    xLabels(svg, data, width, x);
    data.series.forEach(function (s, k) {
      var g = el("g", { "class": "chart-series chart-s" + k }, svg), d = "", pen = false;
      s.values.forEach(function (v, i) {
        if (v === null || v === undefined) { pen = false; return; }
        d += (pen ? " L " : " M ") + x(i).toFixed(1) + " " + y(v).toFixed(1);
        pen = true;
      });
      if (d) el("path", { d: d.trim(), "class": "chart-line" }, g);
      s.values.forEach(function (v, i) {
        if (v === null || v === undefined) return;
        var dot = el("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3.5, "class": "chart-dot" }, g);
        el("title", {}, dot).textContent = s.name + " · " + data.labels[i] + ": " + fmt(v, data);
      });
    });
  }

  function bar(svg, data, width) {
    var b = bounds(data), y = frame(svg, data, width, b), n = data.labels.length, m = data.series.length;
    var plotW = width - PAD.left - PAD.right, slot = plotW / Math.max(1, n);
    var x = function (i) { return PAD.left + slot * (i + 0.5); };
    xLabels(svg, data, width, x);
    var groupW = Math.min(slot * 0.72, 28 * (data.stacked ? 1 : m) + 8), base = y(Math.max(b.min, 0));
    var stack = [];
    data.series.forEach(function (s, k) {
      var g = el("g", { "class": "chart-series chart-s" + k }, svg);
      s.values.forEach(function (v, i) {
        if (v === null || v === undefined) return;
        var w = data.stacked ? groupW : groupW / m, left = x(i) - groupW / 2 + (data.stacked ? 0 : w * k);
        var from = data.stacked ? (stack[i] || 0) : 0, top = y(from + v), bottom = data.stacked ? y(from) : base;
        if (data.stacked) stack[i] = from + v;
        var rect = el("rect", { x: left.toFixed(1), y: Math.min(top, bottom).toFixed(1), width: Math.max(1, w - 2).toFixed(1),
                                height: Math.max(v ? 1 : 0, Math.abs(bottom - top)).toFixed(1), rx: 2, "class": "chart-bar" }, g);
        el("title", {}, rect).textContent = (m > 1 ? s.name + " · " : "") + data.labels[i] + ": " + fmt(v, data);
      });
    });
  }

  function legend(canvas, data) {
    if (data.series.length < 2) return;
    var list = document.createElement("ul");
    list.className = "chart-legend";
    list.setAttribute("aria-hidden", "true");
    data.series.forEach(function (s, k) {
      var item = document.createElement("li"), swatch = document.createElement("span");
      swatch.className = "chart-swatch chart-s" + k;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name));
      list.appendChild(item);
    });
    canvas.appendChild(list);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) return;
    var data;
    try { data = JSON.parse(source.textContent); } catch (error) { return; }
    canvas.textContent = "";
    canvas.classList.toggle("chart-ordinal", data.palette === "ordinal");
    var empty = !data.labels || !data.labels.length || !data.series.some(function (s) {
      return s.values.some(function (v) { return v !== null && v !== undefined; });
    });
    if (empty) {
      var p = document.createElement("p");
      p.className = "chart-empty";
      p.textContent = canvas.getAttribute("data-empty") || "";
      canvas.appendChild(p);
      return;
    }
    var width = Math.max(280, Math.floor(canvas.clientWidth || 600));
    var figure = canvas.closest("figure"), caption = figure && figure.querySelector("figcaption");
    var svg = el("svg", { width: width, height: HEIGHT, viewBox: "0 0 " + width + " " + HEIGHT, role: "img",
                          "class": "chart-svg chart-" + data.type,
                          "aria-label": ((caption ? caption.textContent.trim() + ". " : "") + (data.summary || "")).trim() });
    (data.type === "bar" ? bar : line)(svg, data, width);
    canvas.appendChild(svg);
    legend(canvas, data);
    canvas.setAttribute("data-drawn", "1");
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(drawAll, 150);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  window.BenefitsCharts = { draw: draw, drawAll: drawAll };
})();
