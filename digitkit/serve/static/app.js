// digitkit serve: draw or drop digits, ask POST /api/predict, show the answer; write a number
// on the wide pad, ask POST /api/read, show each digit's box and reading over the drawing.
// No framework and nothing from another origin: the page must work offline and under a
// strict Content-Security-Policy. Text from the server is set with textContent only.
"use strict";

const SEND_SIDE = 112;      // the drawing is sent at this size: plenty for a 28x28 digit
const DEBOUNCE_MS = 150;
const READ_DEBOUNCE_MS = 350;  // a number is written in several strokes: wait for a pause
const TOP_K = 10;
const LINE_WIDTH = 18;      // on the 280 px pad, close to MNIST's stroke for a 20 px box
const NUMBER_HEIGHT = 200;  // the wide pad's drawing height; its width follows the layout
const NUMBER_LINE_WIDTH = 12;  // digits written ~150 px tall get the digit pad's stroke ratio

const $ = (id) => document.getElementById(id);
let activePad = null;       // the pad Ctrl+Z and Escape act on: the one last drawn on

// --- drawing: both pads ---------------------------------------------------------------

// A canvas drawn on with pointer events (mouse, touch, pen), with its Undo and Clear buttons.
// `hooks`: move() while a stroke goes on, start() and end() around each stroke, changed()
// after an undo that leaves strokes, empty() when none are left.
function makePad(canvas, lineWidth, buttons, hooks) {
  const ctx = canvas.getContext("2d");
  const strokes = [];       // each stroke: a list of [x, y] in canvas pixels
  let current = null;
  const pad = { canvas, strokes, redraw, undo, clear, isEmpty: () => strokes.length === 0 };

  function redraw() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = lineWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of strokes) {
      if (stroke.length === 1) {
        ctx.beginPath();
        ctx.arc(stroke[0][0], stroke[0][1], lineWidth / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
    for (const button of buttons) button.disabled = strokes.length === 0;
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }

  function undo() {
    if (!strokes.length) return;
    strokes.pop();
    redraw();
    strokes.length ? hooks.changed() : hooks.empty();
  }

  function clear() {
    strokes.length = 0;
    redraw();
    hooks.empty();
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    try { canvas.setPointerCapture(event.pointerId); } catch (_) { /* a synthetic or vanished pointer */ }
    activePad = pad;
    current = [point(event)];
    strokes.push(current);
    redraw();
    if (hooks.start) hooks.start();
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of (events.length ? events : [event])) current.push(point(e));
    redraw();
    if (hooks.move) hooks.move();
  });
  for (const name of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(name, () => {
      if (!current) return;
      current = null;
      hooks.end();
    });
  }
  return pad;
}

document.addEventListener("keydown", (event) => {
  const pad = activePad || digitPad;
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") { pad.undo(); event.preventDefault(); }
  else if (event.key === "Escape") pad.clear();
});

// `work` once `ms` after the first call, however many calls come meanwhile; cancel() drops it.
function later(work, ms) {
  let timer = null;
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; work(); }, ms);
  };
  schedule.cancel = () => { clearTimeout(timer); timer = null; };
  return schedule;
}

// One request at a time for a pad: a newer drawing waits for the one in flight, then goes
// (through `again`, so it is still debounced), and answers to older drawings are dropped.
// `work(isCurrent)` sends the drawing and shows the answer only while isCurrent() holds.
function latestOnly(work, again) {
  let sequence = 0;
  let inFlight = false;
  let dirty = false;
  async function run() {
    if (inFlight) { dirty = true; return; }
    inFlight = true;
    const mine = ++sequence;
    try {
      await work(() => mine === sequence);
    } finally {
      inFlight = false;
      if (dirty) { dirty = false; again(); }
    }
  }
  run.drop = () => { sequence += 1; };
  return run;
}

function canvasPng(canvas, width, height) {
  const copy = document.createElement("canvas");
  copy.width = width;
  copy.height = height;
  const c = copy.getContext("2d");
  c.imageSmoothingQuality = "high";
  c.drawImage(canvas, 0, 0, width, height);
  return new Promise((resolve) => copy.toBlob(resolve, "image/png"));
}

// --- asking the server ----------------------------------------------------------------

function setStatus(text, isError = false, element = $("status")) {
  element.textContent = text;
  element.classList.toggle("error", isError);
}

// The URL of an API call with the model the picker chose.
function apiUrl(path, params) {
  const query = new URLSearchParams(params);
  const model = $("model").value;
  if (model) query.set("model", model);
  return `${path}?${query.toString()}`;
}

async function postJson(url, body, headers = {}) {
  const response = await fetch(url, { method: "POST", body, headers });
  let data;
  try { data = await response.json(); } catch (_) { data = { error: `the server answered ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

const percent = (p) => `${(p * 100).toFixed(1)} %`;

// --- one digit ------------------------------------------------------------------------

const scheduleDigit = later(() => predictDrawing(), DEBOUNCE_MS);
const predictDrawing = latestOnly(askDigit, scheduleDigit);
const digitPad = makePad($("pad"), LINE_WIDTH, [$("undo"), $("clear")], {
  // At most one prediction per DEBOUNCE_MS while the pen moves, and one after it stops.
  move: scheduleDigit, end: scheduleDigit, changed: scheduleDigit, empty: showEmpty,
});
$("undo").addEventListener("click", digitPad.undo);
$("clear").addEventListener("click", digitPad.clear);

function showEmpty() {
  predictDrawing.drop();
  scheduleDigit.cancel();
  setStatus("Draw a digit to start.");
  $("digit").textContent = "–";
  $("seen-figure").hidden = true;  // no empty box and caption before an answer
  $("bars").replaceChildren();
}

function predictUrl(explain = false) {
  const params = { top_k: String(TOP_K), image: "1" };
  if (explain) params.explain = "1";  // files: the picture as found, beside the digit
  return apiUrl("/api/predict", params);
}

async function askDigit(isCurrent) {
  if (digitPad.isEmpty()) return;
  try {
    const blob = await canvasPng(digitPad.canvas, SEND_SIDE, SEND_SIDE);
    lastPicture = blob;
    const data = await postJson(predictUrl(), blob, { "Content-Type": "image/png" });
    if (!isCurrent()) return;
    const answer = data.predictions[0];
    if (!answer) throw new Error(data.failures.length ? data.failures[0].error : "no answer");
    $("digit").textContent = String(answer.best);
    $("seen").src = answer.image;
    $("seen-figure").hidden = false;
    fillBars($("bars"), answer.top_k);
    setStatus(`${data.model.name} (${data.model.backend}): ${answer.best}, ${percent(answer.confidence)} sure.`);
  } catch (error) {
    if (isCurrent()) setStatus(error.message, true);
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
    value.textContent = percent(probability);
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
    const data = await postJson(predictUrl(true), form);
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
$("model").addEventListener("change", () => {
  if (!digitPad.isEmpty()) predictDrawing();
  if (!numberPad.isEmpty()) readDrawing();
});

// --- a whole number -------------------------------------------------------------------

const numberCanvas = $("number-pad");
const scheduleRead = later(() => readDrawing(), READ_DEBOUNCE_MS);
const readDrawing = latestOnly(askNumber, scheduleRead);
const numberPad = makePad(numberCanvas, NUMBER_LINE_WIDTH, [$("number-read"), $("number-undo"), $("number-clear")], {
  // Read when the pen rests, not while it moves: a number takes several strokes, and boxes
  // from the previous reading would sit over the new ink.
  start: () => { scheduleRead.cancel(); readDrawing.drop(); $("number-boxes").replaceChildren(); },
  end: scheduleRead, changed: scheduleRead, empty: showNoNumber,
});
$("number-read").addEventListener("click", () => { scheduleRead.cancel(); readDrawing(); });
$("number-undo").addEventListener("click", numberPad.undo);
$("number-clear").addEventListener("click", numberPad.clear);

// The drawing keeps NUMBER_HEIGHT pixels of height (so the stroke keeps its weight) and takes
// the width of its place in the layout; resized only while empty, not to distort a drawing.
function fitNumberPad() {
  if (!numberPad.isEmpty()) return;
  const box = numberCanvas.getBoundingClientRect();
  if (!box.width || !box.height) return;
  numberCanvas.height = NUMBER_HEIGHT;
  numberCanvas.width = Math.round(box.width * NUMBER_HEIGHT / box.height);
  numberPad.redraw();
}
window.addEventListener("resize", fitNumberPad);

function showNoNumber() {
  readDrawing.drop();
  scheduleRead.cancel();
  setStatus("Write a number to start.", false, $("number-status"));
  $("number").textContent = "–";
  $("number-boxes").replaceChildren();
  fitNumberPad();
}

async function askNumber(isCurrent) {
  if (numberPad.isEmpty()) return;
  const status = $("number-status");
  try {
    // Bytes rather than a Blob: DevTools (and the browser test) cannot see what a Blob body was.
    const png = await (await canvasPng(numberCanvas, numberCanvas.width, numberCanvas.height)).arrayBuffer();
    if (!isCurrent()) return;
    setStatus("Reading…", false, status);
    const data = await postJson(apiUrl("/api/read", { top_k: "3", name: "drawing" }), png,
                                { "Content-Type": "image/png" });
    if (!isCurrent()) return;
    const reading = data.readings[0];
    if (!reading) throw new Error(data.failures.length ? data.failures[0].error : "no answer");
    showNumber(reading, data.model);
  } catch (error) {
    if (!isCurrent()) return;
    $("number").textContent = "–";
    $("number-boxes").replaceChildren();
    setStatus(error.message.replace(/^drawing: /, ""), true, status);
  }
}

const STATUS_WORDS = { unsure: "unsure", "not-a-digit": "not a digit" };

function showNumber(reading, model) {
  $("number").textContent = reading.text;
  const [width, height] = reading.size || [numberCanvas.width, numberCanvas.height];
  // Boxes are in the PNG's pixels; as percentages of it they land on the canvas at any CSS size.
  const boxes = reading.digits.map((d) => {
    const [x0, y0, x1, y1] = d.box;
    const li = document.createElement("li");
    const doubt = d.status !== "ok";
    li.className = doubt ? "box doubt" : "box";
    li.dataset.digit = String(d.digit);
    li.dataset.status = d.status;
    li.style.left = `${(100 * x0 / width).toFixed(3)}%`;  // CSSOM, allowed by the CSP
    li.style.top = `${(100 * y0 / height).toFixed(3)}%`;
    li.style.width = `${(100 * (x1 - x0) / width).toFixed(3)}%`;
    li.style.height = `${(100 * (y1 - y0) / height).toFixed(3)}%`;
    const tag = document.createElement("span");
    tag.className = "tag";
    // Short, so neighbours' tags rarely overlap (whole percents, rounded down: never "100 %").
    // Not by colour alone: a doubtful digit gets a dashed box and a "?", its status in words.
    tag.textContent = `${doubt ? "? " : ""}${d.digit} ${Math.floor(d.confidence * 100)}%`;
    li.setAttribute("aria-label", `${d.digit}, ${percent(d.confidence)}` +
                    (doubt ? `, ${STATUS_WORDS[d.status] || d.status}` : ""));
    li.append(tag);
    return li;
  });
  $("number-boxes").replaceChildren(...boxes);
  const doubts = reading.digits.filter((d) => d.status !== "ok").length;
  const look = doubts ? ` Look again at the ${doubts === 1 ? "digit" : `${doubts} digits`} marked ?.` : "";
  const word = reading.status === "ok" ? "" : ` (${STATUS_WORDS[reading.status] || reading.status})`;
  setStatus(`${model.name} (${model.backend}): ${reading.digits.length} digit${reading.digits.length === 1 ? "" : "s"}, ` +
            `${percent(reading.confidence)} sure${word}.${look}`, false, $("number-status"));
}

digitPad.redraw();
fitNumberPad();
loadModels();
