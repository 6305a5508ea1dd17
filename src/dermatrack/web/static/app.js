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

  /* Photo upload: drag and drop or several files, one request each, with progress. */
  function uploader() {
    const box = document.getElementById("uploader");
    if (!box) return;
    const zone = box.querySelector(".dropzone");
    const input = box.querySelector('input[type="file"]');
    const list = box.querySelector(".uploads");
    const visit = box.querySelector('select[name="visit_id"]');
    let queue = Promise.resolve();
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
    const send = (file) => new Promise((resolve) => {
      const item = document.createElement("li");
      item.className = "upload";
      item.innerHTML = `<strong>${escapeHtml(file.name)}</strong> <span class="muted">${file.size < 1048576 ? Math.ceil(file.size / 1024) + " KB" : (file.size / 1048576).toFixed(1) + " MB"}</span><div class="bar"><span></span></div><div class="status muted">Waiting…</div><div class="result"></div>`;
      list.appendChild(item);
      const bar = item.querySelector(".bar span");
      const status = item.querySelector(".status");
      const body = new FormData();
      body.append("image", file);
      if (visit && visit.value) body.append("visit_id", visit.value);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", box.dataset.url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) { bar.style.width = (100 * e.loaded / e.total).toFixed(0) + "%"; status.textContent = `Uploading ${(100 * e.loaded / e.total).toFixed(0)} %`; }
      };
      xhr.upload.onload = () => { item.classList.add("analysing"); status.textContent = "Analysing: regions, wrinkles, pigment, redness, texture, pores…"; };
      xhr.onload = () => {
        item.classList.remove("analysing");
        let answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        if (xhr.status === 201 && answer) {
          item.classList.add("done");
          item.dataset.photoId = answer.photo.id;
          status.textContent = `Stored as ${answer.photo.id}: ${answer.photo.width}×${answer.photo.height} px, ${answer.metrics.length} measurements`;
          item.querySelector(".result").innerHTML = metricsTable(answer.metrics);
        } else {
          item.classList.add("failed");
          const detail = answer && answer.detail;
          status.textContent = "Refused: " + (Array.isArray(detail) ? detail.map((d) => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("; ") : detail || xhr.statusText);
        }
        resolve();
      };
      xhr.onerror = () => { item.classList.add("failed"); status.textContent = "The upload failed (network)."; resolve(); };
      xhr.send(body);
    });
    const add = (files) => {
      [...files].forEach((file) => { queue = queue.then(() => send(file)); });
      queue.then(() => { box.dispatchEvent(new CustomEvent("uploads-done")); const done = box.querySelector(".after-upload"); if (done) done.hidden = false; });
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
