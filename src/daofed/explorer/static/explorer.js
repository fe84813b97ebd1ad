// daofed explorer: follow the chain without reloading, count deadlines down, draw the charts,
// run the verification. Text from the chain is only ever set with textContent, or arrives
// inside server-rendered (autoescaped) HTML from this same origin.
"use strict";

const POLL_MS = 1000;
let charts = [];
let clockOffset = 0; // chain time minus this browser's clock, in seconds

function main() {
  return document.getElementById("content");
}

function readClock() {
  const now = Number(main().dataset.now);
  if (now) clockOffset = now - Date.now() / 1000;
}

function formatLeft(seconds) {
  if (seconds <= 0) return "passed";
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const parts = d ? [`${d}d`, `${h}h`] : h ? [`${h}h`, `${m}m`] : [`${m}m`, `${s}s`];
  return `${parts.join(" ")} left`;
}

function tickCountdowns() {
  const now = Date.now() / 1000 + clockOffset;
  for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
    el.textContent = formatLeft(Number(el.dataset.deadline) - now);
  }
}

async function drawCharts() {
  for (const chart of charts) chart.destroy();
  charts = [];
  const metricCanvas = document.getElementById("metric-chart");
  const gasCanvas = document.getElementById("gas-chart");
  const select = document.getElementById("metric-select");
  if (!window.Chart || !metricCanvas || !gasCanvas) return;
  const response = await fetch("/api/charts", { cache: "no-store" });
  if (!response.ok) return;
  const data = await response.json();
  const names = Object.keys(data.metrics);
  const chosen = names.includes(select?.dataset.chosen) ? select.dataset.chosen : data.headline;
  if (select) {
    select.replaceChildren(
      ...names.map((name) => {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name.replaceAll("_", " ");
        option.selected = name === chosen;
        return option;
      }),
    );
    select.hidden = names.length < 2;
  }
  const options = (yTitle) => ({
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    plugins: { legend: { display: false } },
    scales: {
      x: { type: "linear", title: { display: true, text: "round" }, ticks: { precision: 0 } },
      y: { title: { display: true, text: yTitle } },
    },
  });
  const points = (pairs) => pairs.map(([x, y]) => ({ x, y }));
  charts.push(
    new Chart(metricCanvas, {
      type: "line",
      data: {
        datasets: [
          { data: points(data.metrics[chosen] || []), borderColor: "#2563eb", pointRadius: 2 },
        ],
      },
      options: options(chosen ? chosen.replaceAll("_", " ") : "no metric"),
    }),
    new Chart(gasCanvas, {
      type: "bar",
      data: { datasets: [{ data: points(data.gas), backgroundColor: "#f59e0b" }] },
      options: options("gas"),
    }),
  );
}

function showProgress(progress) {
  const bar = document.getElementById("verify-progress");
  const state = document.getElementById("verify-state");
  const button = document.getElementById("verify-start");
  if (!bar || !state) return;
  bar.max = progress.total || 1;
  bar.value = progress.done;
  state.dataset.state = progress.state;
  state.dataset.ok = progress.ok === null ? "" : String(progress.ok);
  if (progress.state === "running") {
    state.textContent = `verifying: ${progress.done} of ${progress.total} rounds`;
  } else if (progress.state === "failed") {
    state.textContent = `verification failed: ${progress.error}`;
  }
  if (button) button.disabled = progress.state === "running";
}

async function followVerification() {
  for (;;) {
    const response = await fetch("/api/verify", { cache: "no-store" });
    if (!response.ok) return;
    const progress = await response.json();
    showProgress(progress);
    if (progress.state !== "running") {
      await refresh(true); // the verdicts and findings are rendered by the server
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function startVerification() {
  const response = await fetch("/api/verify", { method: "POST" });
  if (response.ok) {
    showProgress(await response.json());
    followVerification();
  }
}

async function refresh(force) {
  const head = await fetch("/api/head", { cache: "no-store" }).then((r) => r.json());
  if (!force && String(head.version) === document.body.dataset.version) return;
  const html = await fetch(location.pathname + location.search, { cache: "no-store" }).then((r) =>
    r.text(),
  );
  const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content");
  if (!fresh) return;
  const current = main();
  current.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
  for (const name of ["version", "block", "now"]) current.dataset[name] = fresh.dataset[name] || "";
  document.body.dataset.version = fresh.dataset.version;
  readClock();
  tickCountdowns();
  drawCharts();
}

async function poll() {
  try {
    await refresh(false);
  } catch (error) {
    // the explorer was stopped or restarted: keep the page, try again
  }
  setTimeout(poll, POLL_MS);
}

document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.id === "verify-start") startVerification();
});
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement && event.target.id === "metric-select") {
    event.target.dataset.chosen = event.target.value;
    drawCharts();
  }
});

readClock();
tickCountdowns();
setInterval(tickCountdowns, 1000);
drawCharts();
if (document.getElementById("verify-state")?.dataset.state === "running") followVerification();
setTimeout(poll, POLL_MS);
