// digitkit serve: draw or drop digits, ask POST /api/predict, show the answer.
// No framework and nothing from another origin: the page must work offline and under a
// strict Content-Security-Policy. Text from the server is set with textContent only.
"use strict";

const SEND_SIDE = 112;      // the drawing is sent at this size: plenty for a 28x28 digit
const DEBOUNCE_MS = 150;
const TOP_K = 10;
const LINE_WIDTH = 18;      // on the 280 px pad, close to MNIST's stroke for a 20 px box

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ctx = pad.getContext("2d");
const strokes = [];         // each stroke: a list of [x, y] in canvas pixels
let current = null;
let timer = null;
let sequence = 0;           // answers to older drawings are dropped
let inFlight = false;       // one drawing request at a time; a newer drawing waits for it
let dirty = false;

function redraw() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = LINE_WIDTH;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of strokes) {
    if (stroke.length === 1) {
      ctx.beginPath();
      ctx.arc(stroke[0][0], stroke[0][1], LINE_WIDTH / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(stroke[0][0], stroke[0][1]);
    for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
  $("undo").disabled = strokes.length === 0;
  $("clear").disabled = strokes.length === 0;
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  try { pad.setPointerCapture(event.pointerId); } catch (_) { /* a synthetic or vanished pointer */ }
  current = [point(event)];
  strokes.push(current);
  redraw();
  event.preventDefault();
});
pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of (events.length ? events : [event])) current.push(point(e));
  redraw();
  schedule();
});
for (const name of ["pointerup", "pointercancel"]) {
  pad.addEventListener(name, () => {
    if (!current) return;
    current = null;
    schedule();
  });
}

function schedule() {
  // At most one prediction per DEBOUNCE_MS while the pen moves, and one after it stops.
  if (timer) return;
  timer = setTimeout(() => { timer = null; predictDrawing(); }, DEBOUNCE_MS);
}

function undo() {
  if (!strokes.length) return;
  strokes.pop();
  redraw();
  strokes.length ? schedule() : showEmpty();
}

function clearPad() {
  strokes.length = 0;
  redraw();
  showEmpty();
}

function showEmpty() {
  sequence += 1;
  clearTimeout(timer);
  timer = null;
  setStatus("Draw a digit to start.");
  $("digit").textContent = "–";
  $("seen-figure").hidden = true;  // no empty box and caption before an answer
  $("bars").replaceChildren();
}

$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearPad);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { undo(); event.preventDefault(); }
  else if (event.key === "Escape") clearPad();
});

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function predictUrl(explain = false) {
  const params = new URLSearchParams({ top_k: String(TOP_K), image: "1" });
  if (explain) params.set("explain", "1");  // files: the picture as found, beside the digit
  const model = $("model").value;
  if (model) params.set("model", model);
  return "/api/predict?" + params.toString();
}

async function ask(body, headers, explain = false) {
  const response = await fetch(predictUrl(explain), { method: "POST", body, headers });
  let data;
  try { data = await response.json(); } catch (_) { data = { error: `the server answered ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function drawingBlob() {
  const small = document.createElement("canvas");
  small.width = small.height = SEND_SIDE;
  const c = small.getContext("2d");
  c.imageSmoothingQuality = "high";
  c.drawImage(pad, 0, 0, SEND_SIDE, SEND_SIDE);
  return new Promise((resolve) => small.toBlob(resolve, "image/png"));
}

async function predictDrawing() {
  if (!strokes.length) return;
  if (inFlight) { dirty = true; return; }
  inFlight = true;
  const mine = ++sequence;
  try {
    const blob = await drawingBlob();
    lastPicture = blob;
    const data = await ask(blob, { "Content-Type": "image/png" });
    if (mine !== sequence) return;
    const answer = data.predictions[0];
    if (!answer) throw new Error(data.failures.length ? data.failures[0].error : "no answer");
    $("digit").textContent = String(answer.best);
    $("seen").src = answer.image;
    $("seen-figure").hidden = false;
    fillBars($("bars"), answer.top_k);
    setStatus(`${data.model.name} (${data.model.backend}): ${answer.best}, ` +
              `${(answer.confidence * 100).toFixed(1)} % sure.`);
  } catch (error) {
    if (mine === sequence) setStatus(error.message, true);
  } finally {
    inFlight = false;
    if (dirty) { dirty = false; schedule(); }
  }
}

function fillBars(list, topK) {
  const items = topK.map(({ digit, probability }) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = String(digit);
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${(probability * 100).toFixed(1)}%`;  // CSSOM, allowed by the CSP
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(probability * 100).toFixed(1)} %`;
    li.append(label, track, value);
    li.setAttribute("aria-label", `${digit}: ${(probability * 100).toFixed(1)} percent`);
    return li;
  });
  list.replaceChildren(...items);
}

// --- files ---------------------------------------------------------------------------

async function predictFiles(files) {
  files = Array.from(files).slice(0, 64);
  if (!files.length) return;
  lastPicture = files[0];
  const form = new FormData();
  for (const file of files) form.append("file", file, file.name);
  setStatus(`Reading ${files.length} file${files.length > 1 ? "s" : ""}…`);
  try {
    const data = await ask(form, {}, true);
    showUploads(data);
    const n = data.predictions.length;
    setStatus(`${n} of ${n + data.failures.length} file${n + data.failures.length > 1 ? "s" : ""} predicted by ` +
              `${data.model.name}.`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

function showUploads(data) {
  const items = data.predictions.map((answer) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = answer.image;
    img.width = img.height = 56;
    img.alt = `What the model sees for ${answer.input}`;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `${answer.input}: ${answer.best}`;
    const bars = document.createElement("ol");
    bars.className = "bars";
    fillBars(bars, answer.top_k.slice(0, 3));
    li.append(img, name, bars);
    if (answer.panels && answer.panels.length) li.append(foundPanels(answer));
    li.dataset.digit = String(answer.best);
    return li;
  });
  for (const failure of data.failures) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name failed";
    name.textContent = `${failure.input}: ${failure.error}`;
    li.append(document.createElement("span"), name);
    items.push(li);
  }
  $("uploads").replaceChildren(...items);
}

// The picture as preprocessing found it (the paper, the ink, the crop), beside the digit the
// model saw, as `digitkit predict --show` draws it: a photo that reads wrong shows why.
function foundPanels(answer) {
  const row = document.createElement("div");
  row.className = "found";
  row.setAttribute("aria-label", `How ${answer.input} was read`);
  const shown = [...answer.panels, { caption: "digit", image: answer.image }];
  for (const panel of shown) {
    if (!panel.image) continue;
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = panel.image;
    img.alt = `${panel.caption} of ${answer.input}`;
    const caption = document.createElement("figcaption");
    caption.textContent = panel.caption;
    figure.append(img, caption);
    row.append(figure);
  }
  return row;
}

$("files").addEventListener("change", (event) => { predictFiles(event.target.files); event.target.value = ""; });
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  predictFiles(event.dataTransfer.files);
});
// A file dropped next to the zone must not navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

// --- corrections (serve --collect DIR) ----------------------------------------------

let lastPicture = null;  // the drawing or file last asked about

async function collect(event) {
  event.preventDefault();
  if (!lastPicture) { setStatus("Draw or drop a digit first.", true); return; }
  const digit = $("truth").value;
  try {
    const response = await fetch(`/api/collect?digit=${encodeURIComponent(digit)}`,
                                 { method: "POST", body: lastPicture });
    let data;
    try { data = await response.json(); } catch (_) { data = {}; }
    if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
    setStatus(`Saved as a ${data.digit} (${data.collected} collected).`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function showCollect() {
  try {
    const response = await fetch("/healthz");
    const data = await response.json();
    $("collect").hidden = !data.collect;
  } catch (_) { /* the page works without it */ }
}

$("collect").addEventListener("submit", collect);
showCollect();

// --- models --------------------------------------------------------------------------

async function loadModels() {
  const select = $("model");
  try {
    const response = await fetch("/api/models");
    const data = await response.json();
    const first = document.createElement("option");
    first.value = "";
    const run = data.default.run ? ` · ${data.default.run}` : "";
    first.textContent = `${data.default.name}${run} (default)`;
    const options = [first];
    for (const model of data.models) {
      if (model.id === data.default.run) continue;
      const option = document.createElement("option");
      option.value = model.id;
      const accuracy = model.accuracy == null ? "" : ` · accuracy ${(model.accuracy * 100).toFixed(1)} %`;
      const label = model.label ? ` “${model.label}”` : "";
      option.textContent = model.kind === "pretrained" ? `${model.model} (pretrained)`
        : `${model.model}${label} · ${model.id}${accuracy}`;
      options.push(option);
    }
    select.replaceChildren(...options);
    $("model-note").textContent = `${data.models.length} model${data.models.length === 1 ? "" : "s"} available`;
  } catch (error) {
    $("model-note").textContent = "could not list models";
  }
}
$("model").addEventListener("change", () => { if (strokes.length) predictDrawing(); });

redraw();
loadModels();
