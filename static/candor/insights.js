/* Candor insight charts, drawn with the vendored Chart.js from data the page embeds with
   json_script. Every chart has a data table and a CSV download next to it; the canvas is
   an image with a text label for screen readers. */
(function () {
  "use strict";

  const colours = {
    accent: "#1f4e79",
    accentSoft: "rgba(31, 78, 121, 0.15)",
    warm: "#b5472d",
    warmSoft: "rgba(181, 71, 45, 0.18)",
    grey: "#6b7280",
  };

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // A published figure (analytics/insights/references.py) as a dashed line, if given.
  function referenceLine(ref, count) {
    if (!ref) return { label: "", data: [], hidden: true };
    const value = Math.round(ref.value);
    const shown = ref.unit === "% of respondents" ? value + " %" : (value > 0 ? "+" : "") + value + " %";
    return reference(ref.label + " " + shown, ref.value, count);
  }

  function reference(label, value, count) {
    return {
      label: label,
      data: Array(count).fill(value),
      borderColor: colours.grey,
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false,
    };
  }

  function band(label, rows, low, high, colour) {
    // Two invisible edges, the second filled to the first: the 95 % interval.
    return [
      { label: label + " (95 % CI, upper)", data: rows.map((r) => r[high]), borderWidth: 0,
        pointRadius: 0, fill: false },
      { label: label + " (95 % CI)", data: rows.map((r) => r[low]), borderWidth: 0,
        pointRadius: 0, backgroundColor: colour, fill: "-1" },
    ];
  }

  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    spanGaps: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: {
        labels: {
          filter: (item) => !item.text.endsWith("(95 % CI, upper)"),
          boxWidth: 14,
          padding: 6,
          font: { size: window.innerWidth < 640 ? 11 : 12 },
        },
      },
    },
  };

  function percentAxis(title) {
    return { title: { display: true, text: title }, ticks: { callback: (v) => v + " %" } };
  }

  const charts = {
    perception(canvas, rows, refs) {
      const labels = rows.map((r) => r.period_start);
      return {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "Felt (survey)", data: rows.map((r) => r.perceived), borderColor: colours.warm,
              backgroundColor: colours.warmSoft, fill: { target: 1, above: colours.warmSoft,
                below: colours.accentSoft } },
            { label: "Throughput change since baseline", data: rows.map((r) => r.measured),
              borderColor: colours.accent, fill: false },
            { label: "… against teams not yet using AI", data: rows.map((r) => r.comparative),
              borderColor: colours.accent, borderDash: [2, 3], fill: false },
            referenceLine(refs.metr_felt, labels.length),
            referenceLine(refs.metr_measured, labels.length),
            ...band("Throughput change", rows, "measured_low", "measured_high", colours.accentSoft),
          ],
        },
        options: Object.assign({}, common, {
          scales: { y: percentAxis("speed change against baseline") },
        }),
      };
    },

    trust(canvas, rows, refs) {
      const labels = rows.map((r) => r.period_start);
      return {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "Use AI at least weekly", data: rows.map((r) => r.ai_weekly_share),
              borderColor: colours.accent, backgroundColor: colours.accentSoft,
              fill: { target: 1, above: colours.accentSoft, below: colours.warmSoft } },
            { label: "Trust its output", data: rows.map((r) => r.ai_trust_share),
              borderColor: colours.warm, fill: false },
            referenceLine(refs.dora_trust, labels.length),
            referenceLine(refs.so_use, labels.length),
          ],
        },
        options: Object.assign({}, common, {
          scales: { y: Object.assign(percentAxis("share of respondents"), { min: 0, max: 100 }) },
        }),
      };
    },

    safety(canvas, rows) {
      return {
        type: "line",
        data: {
          labels: rows.map((r) => r.period_start),
          datasets: [
            ...band("Psychological safety", rows, "safety_low", "safety_high", colours.accentSoft),
            { label: "Psychological safety", data: rows.map((r) => r.safety),
              borderColor: colours.accent, fill: false },
          ],
        },
        options: Object.assign({}, common, {
          scales: { y: { min: 0, max: 100, title: { display: true, text: "index, 0–100" } } },
        }),
      };
    },

    split(canvas, rows) {
      const last = rows.filter((r) => r.ai_pr_size_median !== null || r.other_pr_size_median !== null);
      const mean = (key) => {
        const values = last.map((r) => r[key]).filter((v) => v !== null);
        return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
      };
      return {
        type: "bar",
        data: {
          labels: ["PR size (lines)", "Cycle time (h)", "Review time (h)"],
          datasets: [
            { label: "AI-assisted", backgroundColor: colours.warm,
              data: [mean("ai_pr_size_median"), mean("ai_cycle_median_h"), mean("ai_review_median_h")] },
            { label: "Other", backgroundColor: colours.accent,
              data: [mean("other_pr_size_median"), mean("other_cycle_median_h"),
                mean("other_review_median_h")] },
          ],
        },
        options: Object.assign({}, common, { interaction: { mode: "index" } }),
      };
    },

    scatter(canvas, points, refs, axes) {
      return {
        type: "scatter",
        data: { datasets: [{ label: "team-periods", data: points, backgroundColor: colours.accent }] },
        options: Object.assign({}, common, {
          interaction: { mode: "nearest", intersect: true },
          scales: {
            x: { title: { display: true, text: axes.x } },
            y: { title: { display: true, text: axes.y } },
          },
        }),
      };
    },
  };

  function draw() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    const refs = data("references") || {};
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const make = charts[canvas.dataset.chart];
      const rows = data(canvas.dataset.source);
      if (!make || !rows || !rows.length) {
        return;
      }
      const axes = { x: canvas.dataset.xLabel, y: canvas.dataset.yLabel };
      const chart = new window.Chart(canvas, make(canvas, rows, refs, axes));
      canvas.dataset.drawn = String(chart.data.datasets.length);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
