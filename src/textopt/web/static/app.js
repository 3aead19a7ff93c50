// textopt dashboard: a little progressive enhancement in plain JavaScript.
// Every page works without it; it adds the composer's live counter, the segment counter,
// the print button and the import's progress bar.
"use strict";

function debounce(fn, ms) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), ms);
  };
}

function setText(root, name, value) {
  const node = root.querySelector(`[data-field="${name}"]`);
  if (node) node.textContent = value == null ? "—" : String(value);
  return node;
}

function show(root, name, visible) {
  const node = root.querySelector(`[data-field="${name}"]`);
  if (node) node.hidden = !visible;
}

// The message with each character forcing UCS-2 wrapped in <mark> (built as DOM nodes,
// never as HTML, so nothing typed can inject markup).
function mirror(node, text, forcing) {
  node.replaceChildren();
  let run = "";
  for (const char of text) {
    if (forcing.has(char)) {
      if (run) node.append(document.createTextNode(run));
      run = "";
      const mark = document.createElement("mark");
      mark.textContent = char;
      mark.title = "UCS-2";
      node.append(mark);
    } else {
      run += char;
    }
  }
  if (run) node.append(document.createTextNode(run));
}

function composer(form) {
  const area = form.querySelector("textarea[data-live]");
  const panel = form.querySelector("#analysis");
  const samples = form.querySelector('[data-field="samples"]');
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  const emailPart = form.querySelector("#email-part");
  const emailFields = ["email_subject", "email_template", "email_text_template"];
  let lastSmart = [];

  async function refresh() {
    const chosen = form.segment.selectedOptions[0];
    const body = {
      text: area.value,
      segment: chosen && chosen.dataset.filter ? null : form.segment.value || null,
      audience: chosen && chosen.dataset.filter ? chosen.dataset.filter : null,
      purpose: form.purpose.value,
      brand_name: form.brand_name.value,
      smart_encoding: form.smart_encoding.checked,
      track_links: form.track_links.checked,
      channels: form.channels.value,
    };
    for (const name of emailFields) body[name] = form[name].value;
    let data;
    try {
      const response = await fetch(form.dataset.analyze, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      data = await response.json();
    } catch (error) {
      return;
    }
    setText(panel, "audience", data.audience);
    // The email's own error, beside the email part (checked when the channels include it).
    setText(emailPart, "email_error", data.email_error || "");
    show(emailPart, "email_error", Boolean(data.email_error));
    // An error never freezes the panel: it is shown, and figures no sample gives are cleared.
    setText(panel, "error", data.error || "");
    show(panel, "error", Boolean(data.error));
    panel.classList.toggle("has-error", Boolean(data.error));
    showSamples(data.samples || []);
    if (data.encoding === undefined) {
      for (const name of ["encoding", "segments", "units", "per_segment", "cost"]) {
        setText(panel, name, null);
      }
      show(panel, "ucs2", false);
      show(panel, "smart", false);
      panel.querySelector('[data-field="mirror"]').replaceChildren();
      lastSmart = [];
      return;
    }
    setText(panel, "encoding", data.encoding);
    setText(panel, "segments", data.segments);
    setText(panel, "units", data.units);
    setText(panel, "per_segment", data.per_segment);
    setText(panel, "cost", data.cost ? `${data.cost.total} ${data.cost.currency}` : "—");
    const forcing = new Set(data.non_gsm.map((c) => c.char));
    setText(panel, "chars", data.non_gsm.map((c) => `${c.char} (${c.name}) ×${c.count}`).join(", "));
    show(panel, "ucs2", forcing.size > 0);
    mirror(panel.querySelector('[data-field="mirror"]'), area.value, forcing);
    const saves = data.smart.segments < data.segments || data.smart.encoding !== data.encoding;
    lastSmart = data.smart.replacements;
    setText(panel, "smart_encoding", data.smart.encoding);
    setText(panel, "smart_segments", data.smart.segments);
    show(panel, "smart", forcing.size > 0 && saves);
  }

  // Each sample: its text, or its error (a template may fail for one contact only).
  function showSamples(list) {
    samples.replaceChildren();
    for (const sample of list) {
      const item = document.createElement("li");
      const who = document.createElement("strong");
      who.textContent = sample.who ? `${sample.who} — ` : "";
      if (sample.error) {
        const error = document.createElement("span");
        error.className = "error";
        error.textContent = sample.error;
        item.append(who, error);
      } else {
        const meta = document.createElement("small");
        meta.textContent = ` (${sample.segments} × ${sample.encoding})`;
        item.append(who, document.createTextNode(sample.text), meta);
      }
      samples.append(item);
    }
  }

  const later = debounce(refresh, 250);
  const typed = [area, form.segment, form.purpose, form.brand_name];
  for (const field of [...typed, ...emailFields.map((name) => form[name])]) {
    field.addEventListener("input", later);
  }
  for (const box of [
    form.smart_encoding,
    form.track_links,
    form.segment,
    form.purpose,
    form.channels,
  ]) {
    box.addEventListener("change", later);
  }
  const apply = panel.querySelector("[data-apply-smart]");
  if (apply) {
    apply.addEventListener("click", () => {
      let text = area.value;
      for (const [source, target] of lastSmart) text = text.split(source).join(target);
      area.value = text;
      area.focus();
      refresh();
    });
  }
  refresh();
}

// The live count replaces the error the server rendered with the page: one error shown at
// a time, and none once the filter is fixed.
function segmentCounter(area) {
  const out = document.getElementById(area.dataset.countTarget);
  const rendered = document.getElementById(area.dataset.errorId);
  const refresh = debounce(async () => {
    const response = await fetch(`/app/api/count?filter=${encodeURIComponent(area.value)}`, {
      credentials: "same-origin",
    });
    const data = await response.json();
    if (rendered) rendered.hidden = true;
    out.textContent = data.error ? data.error : data.label ? `${data.label} ✓` : "";
    out.className = data.error ? "live error" : "live";
  }, 300);
  area.addEventListener("input", refresh);
  if (area.value) refresh();
}

// The inbox's reply box: how the reply will go (conversational or not) and its SMS parts.
function replyPreview(area) {
  const out = document.getElementById(area.dataset.replyLive);
  const kind = document.getElementById(area.dataset.replyKind);
  const refresh = debounce(async () => {
    if (!area.value.trim()) {
      out.textContent = "";
      return;
    }
    const query = `text=${encodeURIComponent(area.value)}&kind=${encodeURIComponent(kind.value)}`;
    const response = await fetch(`${area.dataset.replyPreview}?${query}`, {
      credentials: "same-origin",
    });
    const data = await response.json();
    out.textContent = data.error ? data.error : data.label;
    out.className = data.error ? "live warn" : "live";
  }, 300);
  area.addEventListener("input", refresh);
  kind.addEventListener("change", refresh);
  if (area.value) refresh();
}

// An import running in the background: the bar follows its job until it ends, then the
// page reloads to show the result the server writes (in the viewer's language).
function importProgress(card) {
  const bar = card.querySelector("progress");
  async function poll() {
    let data;
    try {
      const response = await fetch(card.dataset.poll, { credentials: "same-origin" });
      data = await response.json();
    } catch (error) {
      setTimeout(poll, 2000);
      return;
    }
    bar.value = data.percent;
    bar.textContent = `${data.percent} %`;
    setText(card, "progress", data.label);
    if (data.state === "running") setTimeout(poll, 700);
    else window.location.reload();
  }
  setTimeout(poll, 300);
}

document.addEventListener("DOMContentLoaded", () => {
  const job = document.querySelector("#import-job[data-poll]");
  if (job) importProgress(job);
  const form = document.getElementById("composer");
  if (form) composer(form);
  for (const area of document.querySelectorAll("textarea[data-count-target]")) segmentCounter(area);
  for (const area of document.querySelectorAll("textarea[data-reply-preview]")) replyPreview(area);
  // A form that cannot be undone (deleting a draft) asks first.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
