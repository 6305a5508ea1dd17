// The clinic's day (issue 16): the signature pad, the treatment map and the guided
// photo capture. Plain scripts, no framework; every write goes to /api with the CSRF
// header, as app.js does.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function message(data) {
    const detail = data && data.detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg).join("; ");
    return detail || "the server refused the request";
  }

  // --- signature pad: pointer events (finger, stylus, mouse) on a canvas --------------
  function signaturePad() {
    const canvas = document.getElementById("signature-pad");
    if (!canvas) return;
    const context = canvas.getContext("2d");
    let drawing = false, strokes = 0, last = null;
    const reset = () => {
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      strokes = 0;
    };
    reset();
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width,
              (event.clientY - box.top) * canvas.height / box.height];
    };
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true; last = at(event); strokes += 1;
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const point = at(event);
      const pressure = event.pressure && event.pointerType === "pen" ? event.pressure : 0.5;
      context.strokeStyle = "#111"; context.lineCap = "round"; context.lineJoin = "round";
      context.lineWidth = 1.5 + 3 * pressure;
      context.beginPath(); context.moveTo(last[0], last[1]); context.lineTo(point[0], point[1]);
      context.stroke();
      last = point;
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    document.getElementById("clear-signature").addEventListener("click", reset);
    const error = document.getElementById("signature-error");
    document.getElementById("submit-signature").addEventListener("click", async () => {
      error.textContent = "";
      if (!strokes) { error.textContent = "Please sign in the box first."; return; }
      const result = await postJson(`/api/patients/${canvas.dataset.patient}/consents/sign`, {
        template_id: canvas.dataset.template,
        witness: document.getElementById("witness").value,
        signature_png: canvas.toDataURL("image/png"),
      });
      if (!result.ok) { error.textContent = message(result.data); return; }
      location.href = `/consents/${result.data.consent_id}`;
    });
  }

  // --- treatment map: clicks on the SVG diagrams become marks -------------------------
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = { zone: "#2f7d6d", pass: "#3465a4", injection: "#b3261e", test_spot: "#8a5a00" };

  function treatmentMap() {
    const tools = document.getElementById("map-tools");
    if (!tools) return;
    const pending = [];  // marks not saved yet
    let shape = null;    // the zone or pass being drawn
    const kind = () => document.querySelector('input[name="mark-kind"]:checked').value;
    const error = document.getElementById("map-error");
    const count = document.getElementById("pending-count");

    function details() {
      const amount = document.getElementById("mark-amount").value;
      return {
        lot_id: document.getElementById("mark-lot").value || null,
        amount: amount ? Number(amount) : null,
        unit: document.getElementById("mark-unit").value || null,
        notes: document.getElementById("mark-notes").value || null,
      };
    }

    function draw(mark) {
      const svg = document.getElementById(`diagram-${mark.view}`);
      const layer = svg.querySelector("g.marks");
      if (mark.element) mark.element.remove();
      const xy = mark.points.map(([x, y]) => [x * 200, y * 260]);
      let element;
      if (mark.kind === "injection" || mark.kind === "test_spot") {
        element = document.createElementNS(SVG, mark.kind === "injection" ? "circle" : "rect");
        if (mark.kind === "injection") {
          element.setAttribute("cx", xy[0][0]); element.setAttribute("cy", xy[0][1]);
          element.setAttribute("r", 4); element.setAttribute("fill", COLOURS.injection);
        } else {
          element.setAttribute("x", xy[0][0] - 4); element.setAttribute("y", xy[0][1] - 4);
          element.setAttribute("width", 8); element.setAttribute("height", 8);
          element.setAttribute("fill", "none"); element.setAttribute("stroke", COLOURS.test_spot);
          element.setAttribute("stroke-width", 2);
        }
      } else {
        element = document.createElementNS(SVG, mark.kind === "zone" && mark.done ? "polygon" : "polyline");
        element.setAttribute("points", xy.map((p) => p.join(",")).join(" "));
        element.setAttribute("stroke", COLOURS[mark.kind]);
        element.setAttribute("stroke-width", mark.kind === "pass" ? 2.5 : 1.5);
        element.setAttribute("fill", mark.kind === "zone" && mark.done ? COLOURS.zone : "none");
        element.setAttribute("fill-opacity", "0.25");
        if (mark.kind === "pass") element.setAttribute("stroke-dasharray", "6 3");
      }
      element.classList.add("mark", "pending", `mark-${mark.kind}`);
      element.dataset.kind = mark.kind;
      layer.appendChild(element);
      mark.element = element;
    }

    function refresh() { count.textContent = String(pending.length); }

    document.querySelectorAll("svg.face-diagram").forEach((svg) => {
      svg.addEventListener("pointerdown", (event) => {
        event.preventDefault();
        error.textContent = "";
        const box = svg.getBoundingClientRect();
        const point = [Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)),
                       Math.min(1, Math.max(0, (event.clientY - box.top) / box.height))]
          .map((v) => Math.round(v * 10000) / 10000);
        const view = svg.dataset.view, current = kind();
        if (current === "injection" || current === "test_spot") {
          const mark = { view, kind: current, points: [point], ...details() };
          pending.push(mark); draw(mark); refresh();
          return;
        }
        if (!shape || shape.view !== view || shape.kind !== current) {
          if (shape && shape.element) shape.element.remove();  // an unfinished shape is dropped
          shape = { view, kind: current, points: [], ...details() };
        }
        shape.points.push(point);
        draw(shape);
      });
    });

    document.getElementById("finish-shape").addEventListener("click", () => {
      if (!shape) return;
      const needed = shape.kind === "zone" ? 3 : 2;
      if (shape.points.length < needed) {
        error.textContent = `A ${shape.kind} needs at least ${needed} points.`;
        return;
      }
      shape.done = true; draw(shape); pending.push(shape); shape = null; refresh();
    });
    document.getElementById("undo-mark").addEventListener("click", () => {
      const mark = shape || pending.pop();
      if (mark && mark.element) mark.element.remove();
      shape = null; refresh();
    });
    document.getElementById("save-marks").addEventListener("click", async () => {
      if (shape) { error.textContent = "Finish or undo the shape being drawn first."; return; }
      if (!pending.length) { error.textContent = "Place a mark on the diagram first."; return; }
      const marks = pending.map(({ element, done, ...mark }) => mark);
      const result = await postJson(`/api/sessions/${tools.dataset.session}/marks`, { marks });
      if (!result.ok) { error.textContent = message(result.data); return; }
      location.reload();
    });
  }

  // --- guided capture: camera, ghost overlay, live check ------------------------------
  function captureGuide() {
    const section = document.getElementById("capture");
    if (!section) return;
    const patient = section.dataset.patient;
    const video = document.getElementById("camera");
    const ghost = document.getElementById("ghost");
    const canvas = document.getElementById("frame-canvas");
    const take = document.getElementById("take-photo");
    const error = document.getElementById("capture-error");
    const saved = document.getElementById("capture-saved");
    const facebox = document.getElementById("facebox");
    let stream = null, checking = false, timer = null;
    const view = () => document.querySelector('input[name="view"]:checked');
    document.getElementById("capture-visit").addEventListener("change", (event) => {
      location.search = "?visit=" + encodeURIComponent(event.target.value);
    });

    function showGhost() {
      const baseline = view().dataset.baseline;
      if (baseline) {
        ghost.src = `/api/patients/${patient}/photos/${baseline}/image`;
        ghost.hidden = false;
      } else {
        ghost.hidden = true; ghost.removeAttribute("src");
      }
    }
    const opacity = document.getElementById("ghost-opacity");
    const setOpacity = () => { ghost.style.opacity = String(opacity.value / 100); };
    opacity.addEventListener("input", setOpacity); setOpacity();
    document.querySelectorAll('input[name="view"]').forEach((input) =>
      input.addEventListener("change", showGhost));
    showGhost();

    function grab(maxSide, quality) {
      const w = video.videoWidth, h = video.videoHeight;
      const scale = Math.min(1, maxSide / Math.max(w, h));
      canvas.width = Math.round(w * scale); canvas.height = Math.round(h * scale);
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    }

    function brightness() {  // a quick client-side check between server checks
      const context = canvas.getContext("2d", { willReadFrequently: true });
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0, clipped = 0, n = 0;
      for (let i = 0; i < pixels.length; i += 16) {
        const y = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
        sum += y; n += 1; if (y >= 250 || y <= 5) clipped += 1;
      }
      return { mean: sum / n, clipped: clipped / n };
    }

    async function check() {
      if (checking || !stream || !video.videoWidth) return;
      checking = true;
      try {
        const frame = await grab(480, 0.7);
        const light = brightness();
        document.getElementById("brightness").textContent =
          `frame brightness ${light.mean.toFixed(0)} / 255, clipped ${(100 * light.clipped).toFixed(1)} %`;
        const body = new FormData();
        body.append("frame", frame, "frame.jpg");
        body.append("view", view().value);
        const response = await fetch(`/api/patients/${patient}/capture/check`, {
          method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
        });
        const result = await response.json();
        if (!response.ok) { error.textContent = message(result); return; }
        const verdict = document.getElementById("check-verdict");
        verdict.textContent = result.ok ? "Pose, light and focus match" : "Adjust before taking";
        verdict.className = result.ok ? "good" : "warn";
        section.dataset.checked = result.ok ? "ok" : "adjust";
        const pose = result.pose;
        document.getElementById("check-figures").textContent = pose
          ? `yaw ${pose.yaw.toFixed(0)}°, pitch ${pose.pitch.toFixed(0)}°, roll ${pose.roll.toFixed(0)}°` +
            (result.baseline_pose ? ` (baseline yaw ${result.baseline_pose.yaw.toFixed(0)}°)` : "") +
            ` · light ${result.lighting.mean_luma.toFixed(0)}, balance ${result.lighting.balance.toFixed(2)}` +
            (result.sharpness !== null ? ` · sharpness ${result.sharpness.toFixed(2)}` +
              (result.baseline_sharpness !== null ? ` (baseline ${result.baseline_sharpness.toFixed(2)})` : "") : "")
          : `no face found · light ${result.lighting.mean_luma.toFixed(0)}`;
        const advice = document.getElementById("check-advice");
        advice.replaceChildren(...result.advice.map((text) => {
          const item = document.createElement("li"); item.textContent = text; return item;
        }));
        if (result.face_box) {
          const [x0, y0, x1, y1] = result.face_box;
          Object.assign(facebox.style, { left: `${x0 * 100}%`, top: `${y0 * 100}%`,
            width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%` });
          facebox.hidden = false;
          facebox.className = "facebox " + (result.ok ? "good" : "adjust");
        } else {
          facebox.hidden = true;
        }
      } catch (problem) {
        error.textContent = String(problem);
      } finally {
        checking = false;
      }
    }

    document.getElementById("start-camera").addEventListener("click", async () => {
      error.textContent = "";
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment", width: { ideal: 1920 }, height: { ideal: 1080 } },
          audio: false,
        });
      } catch (problem) {
        error.textContent = `The camera cannot be opened (${problem.name}); upload a file instead.`;
        return;
      }
      video.srcObject = stream;
      await video.play().catch(() => {});
      document.getElementById("stage-empty").hidden = true;
      take.disabled = false;
      section.dataset.camera = "on";
      clearInterval(timer);
      timer = setInterval(check, 1200);  // throttled: one frame a little over a second
      check();
    });

    async function upload(blob, name) {
      error.textContent = ""; saved.hidden = true;
      const body = new FormData();
      body.append("image", blob, name);
      if (section.dataset.visit) body.append("visit_id", section.dataset.visit);
      body.append("view", view().value);
      take.disabled = true;
      try {
        const response = await fetch(`/api/patients/${patient}/photos`, {
          method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
        });
        const result = await response.json();
        if (!response.ok) { error.textContent = message(result); return; }
        saved.textContent = `Saved ${result.photo.id} (${view().value.replace("_", " ")}), ` +
          `${result.metrics.length} measurements.`;
        saved.hidden = false;
        const label = view().closest("label");
        label.classList.add("done");
      } finally {
        take.disabled = !stream;
      }
    }

    take.addEventListener("click", async () => {
      const blob = await grab(4096, 0.95);
      await upload(blob, "capture.jpg");
    });
    document.getElementById("capture-file").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (file) await upload(file, file.name);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    signaturePad();
    treatmentMap();
    captureGuide();
  });
})();
