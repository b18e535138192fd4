// shelfwise dashboard charts: draws every <script type="application/json" class="chart-data"> block with
// Chart.js (vendor/chart.umd.min.js, served by the app). The data and the axis range come from the server
// (shelfwise.web.charts); this file only maps them onto Chart.js options. Without JavaScript the page still
// shows each chart's numbers as text (the figure's caption and the tables next to it).
(function () {
  "use strict";

  var PALETTE = ["#2f5fb3", "#c2571a", "#2a8a55", "#8a3fa8", "#b8860b", "#4a4a4a"];

  function formatter(unit) {
    return function (v) {
      if (v === null || v === undefined || isNaN(v)) return "";
      if (unit === "rate") return (v * 100).toLocaleString(undefined, { maximumFractionDigits: 2 }) + "%";
      if (unit === "money") return "$" + v.toLocaleString(undefined, { maximumFractionDigits: 2 });
      if (unit === "ms") return v.toLocaleString(undefined, { maximumFractionDigits: 1 }) + " ms";
      return v.toLocaleString(undefined, { maximumFractionDigits: 4 });
    };
  }

  function valueScale(spec, fmt) {
    return {
      min: spec.axis.min,
      max: spec.axis.max,
      ticks: { callback: function (v) { return fmt(v); }, maxTicksLimit: 6 },
      grid: { color: "#e6e9ef" }
    };
  }

  function config(spec) {
    var fmt = formatter(spec.axis.unit);
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        title: { display: true, text: spec.title, align: "start", font: { weight: "600" } },
        legend: { display: spec.series.length > 1 || spec.kind === "interval", position: "bottom" },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var raw = ctx.raw;
              if (Array.isArray(raw)) return ctx.dataset.label + ": " + fmt(raw[0]) + " to " + fmt(raw[1]);
              var v = typeof raw === "object" && raw !== null ? raw.x : raw;
              return ctx.dataset.label + ": " + fmt(v);
            }
          }
        }
      }
    };
    if (spec.kind === "line") {
      common.scales = { y: valueScale(spec, fmt), x: { ticks: { maxTicksLimit: 10, autoSkip: true } } };
      return {
        type: "line",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            var color = PALETTE[i % PALETTE.length];
            return { label: s.label, data: s.values, borderColor: color, backgroundColor: color,
                     pointRadius: spec.labels.length > 40 ? 0 : 2, tension: 0.2, spanGaps: false };
          })
        },
        options: common
      };
    }
    common.indexAxis = "y";
    common.scales = { x: valueScale(spec, fmt), y: { ticks: { autoSkip: false } } };
    if (spec.kind === "bar") {
      return {
        type: "bar",
        data: { labels: spec.labels, datasets: [{ label: spec.series[0].label, data: spec.series[0].values,
                backgroundColor: PALETTE[0], barPercentage: 0.7 }] },
        options: common
      };
    }
    // interval: a floating bar over the 95% CI and a point at the estimate
    return {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [
          { type: "bar", label: "95% CI", backgroundColor: "rgba(47,95,179,0.35)", barPercentage: 0.35,
            data: spec.intervals.map(function (r) {
              return r.low === null || r.high === null ? null : [r.low, r.high];
            }) },
          { type: "scatter", label: "estimate", backgroundColor: PALETTE[0], pointRadius: 5,
            data: spec.intervals.map(function (r) { return { x: r.value, y: r.label }; }) }
        ]
      },
      options: common
    };
  }

  function draw(block) {
    var figure = block.closest("figure");
    var canvas = figure && figure.querySelector("canvas");
    if (!canvas || typeof Chart === "undefined") return;
    var spec;
    try { spec = JSON.parse(block.textContent); } catch (e) { return; }
    if (spec.kind !== "line") {
      // horizontal charts grow with their rows (set through the CSSOM, which the page CSP allows)
      canvas.parentNode.style.height = (64 + 30 * Math.max(1, spec.labels.length)) + "px";
    }
    new Chart(canvas, config(spec));
    canvas.dataset.drawn = "true";
  }

  function drawAll() {
    document.querySelectorAll('script[type="application/json"].chart-data').forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
