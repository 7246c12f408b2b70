// stackctl console: relative times, refusals shown in place, and live command logs.
"use strict";

// Show 4xx answers (a refused action says why) instead of htmx's default of dropping them.
document.addEventListener("DOMContentLoaded", () => {
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
  refresh(document);
  setInterval(() => relativeTimes(document), 10000);
});
document.addEventListener("htmx:afterSettle", (e) => refresh(e.target));
// Rows and counts a poll sends out of band (the stacks table) land outside its target.
document.addEventListener("htmx:oobAfterSwap", (e) => relativeTimes(e.target));

function refresh(root) {
  relativeTimes(root);
  root.querySelectorAll("[data-follow]:not([data-ended]):not([data-open])").forEach(follow);
}

function relativeTimes(root) {
  const now = Date.now();
  root.querySelectorAll("time.ago[datetime]").forEach((el) => {
    const then = Date.parse(el.getAttribute("datetime"));
    if (Number.isNaN(then)) return;
    if (!el.title) el.title = el.textContent;
    el.textContent = ago(Math.max(0, (now - then) / 1000));
  });
}

function ago(s) {
  if (s < 5) return "just now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// A command's log, streamed: each "line" event is a table row, "end" the final status.
function follow(box) {
  box.dataset.open = "1";
  const body = box.querySelector("tbody");
  const status = box.querySelector(".command-status");
  const stream = new EventSource(box.dataset.follow);
  stream.addEventListener("line", (e) => {
    body.insertAdjacentHTML("beforeend", e.data);
    relativeTimes(body);
  });
  stream.addEventListener("end", (e) => {
    status.innerHTML = e.data;
    box.dataset.ended = "1";
    stream.close();
  });
}
