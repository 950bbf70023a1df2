// Yaosu console behaviour. No inline scripts anywhere (the Content-Security-Policy forbids
// them): pages carry data in data-* attributes and <script type="application/json"> blocks.
"use strict";

function uploadForm(form) {
  const dataset = form.dataset.dataset;
  const file = form.querySelector("#file");
  const sheet = form.querySelector("#sheet");
  const bar = form.querySelector("#progress");
  const status = form.querySelector("#upload-status");
  const error = form.querySelector("#upload-error");
  // The token rides on the app's own upload form only (never on <body>, where anything htmx
  // processed would inherit it).
  const csrf = form.dataset.csrf || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!file.files.length) return;
    const chosen = file.files[0];
    const params = new URLSearchParams({ filename: chosen.name });
    if (sheet.value.trim()) params.set("sheet", sheet.value.trim());
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/datasets/${encodeURIComponent(dataset)}/versions?${params}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept-Language", document.documentElement.lang);
    bar.hidden = false;
    bar.value = 0;
    error.hidden = true;
    status.textContent = "";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener("load", () => { status.textContent = form.dataset.done; });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) {
        // The dataset's page says what happened and what comes next (yaosu.console.steps).
        window.location.assign(`/datasets/${encodeURIComponent(dataset)}?done=version.uploaded`);
        return;
      }
      let message = xhr.statusText;
      try { message = JSON.parse(xhr.responseText).error.message; } catch (_) { /* keep statusText */ }
      bar.hidden = true;
      status.textContent = "";
      error.textContent = message;
      error.hidden = false;
    });
    xhr.addEventListener("error", () => {
      bar.hidden = true;
      error.textContent = xhr.statusText || "network error";
      error.hidden = false;
    });
    xhr.send(chosen);
  });
}

function profileCharts(container) {
  const source = document.getElementById("profile-data");
  if (!source || !window.echarts) return;
  const columns = JSON.parse(source.textContent || "[]");
  for (const column of columns) {
    const box = document.createElement("figure");
    box.className = "chart";
    const caption = document.createElement("figcaption");
    caption.textContent = `${column.name} · ${container.dataset.titleTop}`;
    const canvas = document.createElement("div");
    canvas.className = "chart-canvas";
    box.append(caption, canvas);
    container.append(box);
    const chart = window.echarts.init(canvas, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", name: container.dataset.labelRows },
      yAxis: { type: "category", data: column.top.map((t) => String(t.value)).reverse() },
      series: [{ type: "bar", data: column.top.map((t) => t.count).reverse(), itemStyle: { color: "#b4441f" } }],
      tooltip: { trigger: "axis" },
    });
    window.addEventListener("resize", () => chart.resize());
  }
}

function gauge(box) {
  if (!window.echarts) return;
  const max = Number(box.dataset.max) || 1;
  const value = Math.max(0, Number(box.dataset.value) || 0);
  const chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    series: [{
      type: "gauge",
      min: 0,
      max,
      progress: { show: true, width: 14 },
      axisLine: { lineStyle: { width: 14 } },
      itemStyle: { color: value / max < 0.2 ? "#8a1c06" : "#1f7a4d" },
      pointer: { show: false },
      splitLine: { show: false },
      axisTick: { show: false },
      // No tick labels: at a gauge's size they collide with the value; the value says "of max".
      axisLabel: { show: false },
      title: { offsetCenter: [0, "72%"], fontSize: 13 },
      detail: { valueAnimation: false, offsetCenter: [0, "12%"], fontSize: 20,
                formatter: (v) => `${Number(v.toPrecision(3))} / ${Number(max.toPrecision(3))}` },
      data: [{ value, name: box.dataset.label }],
    }],
  });
  window.addEventListener("resize", () => chart.resize());
}

function answerChart(box) {
  const source = document.getElementById("answer-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent || "{}");
  const chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 8 ? 30 : 0 } },
    yAxis: { type: "value", name: data.name },
    series: [{ type: "bar", data: data.values, itemStyle: { color: "#b4441f" } }],
    tooltip: { trigger: "axis" },
  });
  window.addEventListener("resize", () => chart.resize());
}

// "Use ε = …" in the query forecast: puts the proposed ε in the form, which asks again.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-set-epsilon]");
  if (!button) return;
  const input = document.getElementById("epsilon");
  if (!input) return;
  input.value = button.dataset.setEpsilon;
  input.dispatchEvent(new Event("input", { bubbles: true }));
});

// A lineage graph: datasets (squares) and runs (circles), left to right as laid out by the
// server. Every text is set as text (ECharts draws SVG text; the tooltip renders rich text,
// not HTML), so names from data cannot become markup.
function lineageGraph(box) {
  const source = document.getElementById("lineage-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent || "{}");
  const colours = { holder: "#1f5f8b", processor: "#7a4d1f", operator: "#b4441f", consumer: "#4d6b2e" };
  const nodes = (data.nodes || []).map((n) => ({
    id: n.id,
    name: n.is_run ? n.words : n.title,
    x: n.x,
    y: n.y,
    symbol: n.is_run ? "circle" : "roundRect",
    symbolSize: n.is_run ? 18 : [28, 20],
    itemStyle: { color: n.is_run ? "#888" : colours[n.part] || "#555" },
    link: n.link || null,
    detail: n.is_run ? `${n.org_name || ""} ${String(n.at || "").slice(0, 10)}` : n.org_name || "",
    // runs above the line, datasets below it: neighbouring labels do not overlap
    label: { position: n.is_run ? "top" : "bottom" },
  }));
  const height = Math.max(220, 90 * (1 + Math.max(0, ...nodes.map((n) => n.y / 90))));
  box.style.height = `${height}px`;
  const chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { renderMode: "richText", formatter: (p) => (p.dataType === "node" ? `${p.data.name}\n${p.data.detail}` : "") },
    series: [{
      type: "graph",
      layout: "none",
      roam: true,
      edgeSymbol: ["none", "arrow"],
      label: { show: true, position: "bottom", width: 150, overflow: "truncate", fontSize: 11, formatter: (p) => p.data.name },
      lineStyle: { color: "#999", curveness: 0.1 },
      data: nodes,
      links: (data.edges || []).map(([source, target]) => ({ source, target })),
    }],
  });
  chart.on("click", (p) => {
    if (p.dataType === "node" && p.data.link && p.data.link.startsWith("/") && !p.data.link.startsWith("//")) {
      window.location.assign(p.data.link);
    }
  });
  window.addEventListener("resize", () => chart.resize());
}

document.addEventListener("DOMContentLoaded", () => {
  const lineage = document.querySelector("[data-lineage-graph]");
  if (lineage) lineageGraph(lineage);
  const answer = document.getElementById("answer-chart");
  if (answer) answerChart(answer);
  for (const box of document.querySelectorAll("[data-gauge]")) gauge(box);
  const form = document.getElementById("upload");
  if (form) uploadForm(form);
  const charts = document.getElementById("charts");
  if (charts) profileCharts(charts);
});
