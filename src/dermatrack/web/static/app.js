/* dermatrack clinic app: small progressive enhancements, no framework, no build step.
   Every page works without this file; with it, forms update parts of the page as you type. */
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const debounce = (fn, ms) => { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; };
  const number = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : String(Number(Number(v).toPrecision(3))));
  const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  /* Forms with data-live-url: POST the form as it changes, show the returned fragment. */
  function liveForms() {
    document.querySelectorAll("form[data-live-url]").forEach((form) => {
      const target = document.querySelector(form.dataset.liveTarget);
      let latest = 0;
      const refresh = async () => {
        const ticket = ++latest;
        const response = await fetch(form.dataset.liveUrl, {
          method: "POST", body: new FormData(form), headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin",
        });
        if (ticket === latest) target.innerHTML = await response.text();
      };
      const later = debounce(refresh, 250);
      form.addEventListener("input", later);
      form.addEventListener("change", later);
      form.addEventListener("rows-changed", later);
      refresh();
    });
  }

  /* Search boxes with data-live-search: fetch the matching rows as you type. */
  function liveSearch() {
    document.querySelectorAll("input[data-live-search]").forEach((input) => {
      const target = document.querySelector(input.dataset.target);
      input.addEventListener("input", debounce(async () => {
        const url = input.dataset.liveSearch + "?q=" + encodeURIComponent(input.value);
        const response = await fetch(url, { headers: { "X-Partial": "1" }, credentials: "same-origin" });
        if (response.ok) target.innerHTML = await response.text();
        history.replaceState(null, "", input.value ? "?q=" + encodeURIComponent(input.value) : location.pathname);
      }, 250));
    });
  }

  /* Repeating rows (concerns, medications). */
  function rows() {
    document.addEventListener("click", (event) => {
      const add = event.target.closest("[data-add-row]");
      if (add) {
        const container = document.querySelector(add.dataset.addRow);
        const last = container.lastElementChild;
        const copy = last.cloneNode(true);
        copy.querySelectorAll("input, select").forEach((el) => { el.value = ""; });
        container.appendChild(copy);
        copy.querySelector("select, input").focus();
      }
      const remove = event.target.closest("[data-remove-row]");
      if (remove) {
        const row = remove.closest(".row");
        if (row.parentElement.children.length > 1) row.remove();
        else row.querySelectorAll("input, select").forEach((el) => { el.value = ""; });
      }
      if (add || remove) event.target.closest("form").dispatchEvent(new Event("rows-changed"));
    });
  }

  /* Session form: per-region ranges and defaults from the knowledge base. */
  function sessionForm() {
    const form = document.getElementById("session-form");
    const dataNode = document.getElementById("modality-data");
    if (!form || !dataNode) return;
    const parameters = JSON.parse(dataNode.textContent);
    const regions = () => [...form.querySelectorAll('input[name="regions"]:checked')].map((el) => el.value);
    const fmt = (n) => Number(n).toLocaleString(undefined, { maximumFractionDigits: 3 });
    const update = () => {
      const chosen = regions();
      parameters.forEach((p) => {
        const input = form.querySelector(`[name="param_${p.code}"]`);
        const label = form.querySelector(`[data-range-for="${p.code}"]`);
        const regional = chosen.filter((r) => p.by_region[r]).map((r) => [r, p.by_region[r]]);
        let range = { min: p.min, max: p.max, default: p.default };
        if (regional.length) {
          // Several regions: the range all of them allow, the lowest default (safest start).
          range = {
            min: Math.max(...regional.map(([, r]) => r.min)),
            max: Math.min(...regional.map(([, r]) => r.max)),
            default: Math.min(...regional.map(([, r]) => r.default)),
          };
          label.textContent = regional.map(([r, v]) => `${r.replace(/_/g, " ")}: ${fmt(v.min)}–${fmt(v.max)} ${p.unit}, start ${fmt(v.default)}`).join(" · ");
          label.classList.add("regional");
        } else {
          label.textContent = `${fmt(p.min)}–${fmt(p.max)} ${p.unit}, start ${fmt(p.default)}`;
          label.classList.remove("regional");
        }
        if (!input.dataset.edited) input.value = range.default;
        const value = parseFloat(input.value);
        const outside = input.value !== "" && (isNaN(value) || value < range.min || value > range.max);
        input.classList.toggle("invalid", outside);
        input.setAttribute("aria-invalid", outside ? "true" : "false");
      });
    };
    form.addEventListener("input", (event) => {
      if (event.target.name && event.target.name.startsWith("param_")) event.target.dataset.edited = "1";
      update();
    });
    form.addEventListener("change", update);
    update();
  }

  /* Photo upload: drag and drop or several files. They go one at a time (the server
     analyses each inside its request), so every photo shows its own honest state: queued
     with its place in line, uploading with the bytes sent, analysing with the seconds
     elapsed (and the time the previous photo took), then its metrics or why it was refused.
     A summary line counts the batch. */
  function uploader() {
    const box = document.getElementById("uploader");
    if (!box) return;
    const zone = box.querySelector(".dropzone");
    const input = box.querySelector('input[type="file"]');
    const list = box.querySelector(".uploads");
    const summary = box.querySelector(".upload-summary");
    const visit = box.querySelector('select[name="visit_id"]');
    let queue = Promise.resolve();
    const batch = { total: 0, done: 0, failed: 0, lastSeconds: null };
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    const showSummary = (current) => {
      if (!summary) return;
      const finished = batch.done + batch.failed;
      let text = `${finished} of ${plural(batch.total, "photo")} finished`;
      if (batch.failed) text += ` (${batch.failed} refused)`;
      if (current && finished < batch.total) text += ` · ${current}`;
      summary.textContent = text;
      summary.hidden = batch.total === 0;
    };
    const metricsTable = (metrics) => {
      const byRegion = {};
      metrics.forEach((m) => { (byRegion[m.region] = byRegion[m.region] || []).push(m); });
      const wanted = [["area_mm2", "Area"], ["wrinkles.severity_index", "Wrinkle index"], ["pigment.ita_deg", "ITA°"], ["pigment.spot_area_fraction", "Spot area"], ["redness.erythema_index", "Erythema index"], ["texture.roughness", "Roughness"], ["pores.count", "Pores"]];
      const columns = wanted.filter(([code]) => metrics.some((m) => m.metric === code));
      let html = '<table class="table compact metrics"><thead><tr><th>Region</th>' + columns.map(([code, label]) => `<th title="${escapeHtml(code)}">${escapeHtml(label)}</th>`).join("") + "</tr></thead><tbody>";
      Object.keys(byRegion).sort().forEach((region) => {
        html += `<tr><td>${escapeHtml(region.replace(/_/g, " "))}</td>`;
        columns.forEach(([code]) => {
          const m = byRegion[region].find((x) => x.metric === code);
          html += `<td>${m && m.value !== null ? escapeHtml(number(m.value)) + " " + escapeHtml(m.unit === "1" ? "" : m.unit) : "—"}</td>`;
        });
        html += "</tr>";
      });
      return html + "</tbody></table>";
    };
    const itemFor = (file, place) => {
      const item = document.createElement("li");
      item.className = "upload queued";
      item.innerHTML = `<strong>${escapeHtml(file.name)}</strong> <span class="muted">${file.size < 1048576 ? Math.ceil(file.size / 1024) + " KB" : (file.size / 1048576).toFixed(1) + " MB"}</span><div class="bar"><span></span></div><div class="status muted" role="status">Queued: photo ${place} of ${batch.total}</div><div class="result"></div>`;
      list.appendChild(item);
      return item;
    };
    const send = (file, item) => new Promise((resolve) => {
      item.classList.remove("queued");
      const bar = item.querySelector(".bar span");
      const status = item.querySelector(".status");
      const name = file.name;
      const body = new FormData();
      body.append("image", file);
      if (visit && visit.value) body.append("visit_id", visit.value);
      /* The scale and the kind of photograph, as `photo import --mm-per-px/--no-face` take them. */
      const scale = box.querySelector('input[name="mm_per_px"]');
      if (scale && scale.value) body.append("mm_per_px", scale.value);
      const closeUp = box.querySelector('input[name="close_up"]');
      if (closeUp && closeUp.checked) body.append("close_up", "true");
      const xhr = new XMLHttpRequest();
      let clock = null;
      let started = null;
      const finish = () => { if (clock) clearInterval(clock); clock = null; };
      const tick = () => {
        const seconds = Math.round((Date.now() - started) / 1000);
        const previous = batch.lastSeconds === null ? "" : `; the previous photo took ${batch.lastSeconds} s`;
        status.textContent = `Analysing (regions, wrinkles, pigment, redness, texture, pores): ${seconds} s${previous}`;
      };
      xhr.open("POST", box.dataset.url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      status.textContent = "Uploading…";
      showSummary(`uploading ${name}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) { bar.style.width = (100 * e.loaded / e.total).toFixed(0) + "%"; status.textContent = `Uploading ${(100 * e.loaded / e.total).toFixed(0)} %`; }
      };
      xhr.upload.onload = () => {
        item.classList.add("analysing");
        started = Date.now();
        tick();
        clock = setInterval(tick, 1000);
        showSummary(`analysing ${name}`);
      };
      xhr.onload = () => {
        finish();
        item.classList.remove("analysing");
        if (started !== null) batch.lastSeconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        let answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        if (xhr.status === 201 && answer) {
          batch.done += 1;
          item.classList.add("done");
          item.dataset.photoId = answer.photo.id;
          status.textContent = `Stored as ${answer.photo.id}: ${answer.photo.width}×${answer.photo.height} px, ${answer.metrics.length} measurements` + (started !== null ? `, analysed in ${batch.lastSeconds} s` : "");
          const scaleText = answer.photo.mm_per_px ? `scale ${Number(answer.photo.mm_per_px.toPrecision(3))} mm/px (${answer.photo.scale_source})` : "no physical scale: lengths in pixels";
          let warning = "";
          if (answer.photo.duplicate_of) warning = `<p class="warning" role="alert">This image is already stored for this patient as <a href="#${escapeHtml(answer.photo.duplicate_of)}">${escapeHtml(answer.photo.duplicate_of)}</a>: the same file was uploaded twice.</p>`;
          item.querySelector(".result").innerHTML = warning + `<p class="muted">${escapeHtml(scaleText)}</p>` + metricsTable(answer.metrics);
        } else {
          batch.failed += 1;
          item.classList.add("failed");
          const detail = answer && answer.detail;
          status.textContent = "Refused: " + (Array.isArray(detail) ? detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ") : detail || xhr.statusText);
        }
        showSummary();
        resolve();
      };
      xhr.onerror = () => { finish(); batch.failed += 1; item.classList.remove("analysing"); item.classList.add("failed"); status.textContent = "The upload failed (network)."; showSummary(); resolve(); };
      xhr.send(body);
    });
    /* Replace the gallery with the server's fresh copy, so the new photos appear in it. */
    const refreshGallery = async () => {
      const gallery = document.getElementById("gallery");
      if (!gallery) return;
      try {
        const response = await fetch(location.pathname, { credentials: "same-origin" });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("gallery");
        if (fresh) gallery.replaceWith(fresh);
      } catch (err) { /* the link below the uploads reloads the page instead */ }
    };
    const add = (files) => {
      [...files].forEach((file) => {
        batch.total += 1;
        const item = itemFor(file, batch.total);
        queue = queue.then(() => send(file, item));
      });
      showSummary();
      queue.then(async () => {
        if (batch.done) await refreshGallery();
        box.dispatchEvent(new CustomEvent("uploads-done"));
        const done = box.querySelector(".after-upload");
        if (done) done.hidden = false;
      });
    };
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => add(e.dataTransfer.files));
    input.addEventListener("change", () => { add(input.files); input.value = ""; });
  }

  /* Before/after viewer: slider between the baseline and the aligned follow-up. */
  function viewer() {
    const view = document.querySelector(".viewer");
    if (!view) return;
    const slider = document.getElementById("slider");
    const after = view.querySelector(".after");
    const divider = view.querySelector(".divider");
    const overlay = view.querySelector(".overlay");
    const toggle = document.getElementById("show-change");
    const place = () => {
      const p = slider.value;
      after.style.clipPath = `inset(0 0 0 ${p}%)`;
      divider.style.left = `calc(${p}% - 1px)`;
    };
    slider.addEventListener("input", place);
    if (toggle) toggle.addEventListener("change", () => { overlay.hidden = !toggle.checked; });
    /* Feature toggles: each shows its colour layer over both photographs. */
    document.querySelectorAll("input[data-feature]").forEach((box) => {
      const show = () => view.querySelectorAll(`img[data-layer="${box.dataset.feature}"]`).forEach((img) => { img.hidden = !box.checked; });
      box.addEventListener("change", show);
      show();
    });
    place();
  }

  /* Selects that reload their form when changed (modality of the session form). */
  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    autosubmit();
    liveForms(); liveSearch(); rows(); sessionForm(); uploader(); viewer();
  });
})();
