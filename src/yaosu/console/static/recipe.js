// The de-identification recipe editor (privacy.html). The recipe JSON in #recipe is the one
// state: the form writes it, editing the JSON rewrites the form, and only the JSON is posted
// (to the preview, to the confirmation, and from there to the run), so the server checks
// exactly what the form shows. Everything from data is set as text or value, never as markup.
"use strict";

(function () {
  const OPS_WITH_PARAMS = {
    mask: ["keep_first", "keep_last"],
    generalise: ["to", "width"],
    round: ["to"],
    top_code: ["to"],
    mask_spans: ["entities"],
  };

  function parse(text) {
    try {
      const doc = JSON.parse(text);
      return doc && typeof doc === "object" && !Array.isArray(doc) ? doc : null;
    } catch (_) {
      return null;
    }
  }

  function number(input) {
    if (input.value.trim() === "") return null;
    const value = Number(input.value);
    return Number.isFinite(value) ? value : input.value;
  }

  function editor(root) {
    const textarea = document.getElementById("recipe");
    const jsonError = document.getElementById("recipe-json-error");
    const rows = Array.from(root.querySelectorAll("tr.recipe-column"));
    const kOn = root.querySelector('[data-k="on"]');
    const kValue = root.querySelector('[data-k="k"]');
    const sensitive = root.querySelector('[data-k="sensitive"]');
    const lValue = root.querySelector('[data-k="l"]');
    const quasi = Array.from(root.querySelectorAll("input[data-quasi]"));
    let doc = parse(textarea.value) || { columns: {} };

    function paramsFor(row, op) {
      return Array.from(row.querySelectorAll(".params")).find((b) => b.dataset.for === op);
    }

    function showParams(row) {
      const op = row.querySelector('[data-field="op"]').value;
      for (const box of row.querySelectorAll(".params")) box.hidden = box.dataset.for !== op;
    }

    function stepOf(row, previous) {
      const op = row.querySelector('[data-field="op"]').value;
      if (op === "keep") return null;
      // Keys the form does not know (written in the JSON view) stay while the op stays.
      const step = previous && previous.op === op ? { ...previous } : {};
      step.op = op;
      const box = paramsFor(row, op);
      for (const name of OPS_WITH_PARAMS[op] || []) {
        if (!box) break;
        if (name === "entities") {
          step.entities = Array.from(box.querySelectorAll('input[data-param="entities"]:checked'))
            .map((i) => i.value);
          continue;
        }
        const input = box.querySelector(`[data-param="${name}"]`);
        if (!input) continue;
        const value = input.tagName === "SELECT" ? input.value : number(input);
        if (value === null) delete step[name];
        else step[name] = value;
      }
      if (op === "generalise" && !["age_band", "year_band"].includes(step.to)) delete step.width;
      return step;
    }

    function fromForm() {
      const columns = {};
      const old = (doc && doc.columns) || {};
      for (const row of rows) {
        const step = stepOf(row, old[row.dataset.column]);
        if (step) columns[row.dataset.column] = step;
      }
      const next = { ...doc, columns };
      const chosen = quasi.filter((i) => i.checked).map((i) => i.value);
      if (kOn.checked) {
        const anon = { quasi_identifiers: chosen, k: number(kValue) };
        if (sensitive.value) anon.sensitive = sensitive.value;
        if (number(lValue) !== null) anon.l = number(lValue);
        next.k_anonymity = anon;
      } else {
        delete next.k_anonymity;
      }
      return next;
    }

    function setOption(select, value) {
      if (value === undefined || value === null) return;
      const text = String(value);
      if (!Array.from(select.options).some((o) => o.value === text)) {
        const option = document.createElement("option");
        option.value = text;
        option.textContent = text;
        select.append(option);
      }
      select.value = text;
    }

    function toForm(next) {
      const columns = next.columns && typeof next.columns === "object" ? next.columns : {};
      for (const row of rows) {
        const step = columns[row.dataset.column] || { op: "keep" };
        setOption(row.querySelector('[data-field="op"]'), step.op || "keep");
        const box = paramsFor(row, step.op);
        if (box) {
          for (const input of box.querySelectorAll("[data-param]")) {
            const name = input.dataset.param;
            if (name === "entities") {
              input.checked = Array.isArray(step.entities) && step.entities.includes(input.value);
            } else if (input.tagName === "SELECT") {
              setOption(input, step[name]);
            } else if (step[name] !== undefined) {
              input.value = String(step[name]);
            }
          }
        }
        showParams(row);
      }
      const anon = next.k_anonymity && typeof next.k_anonymity === "object" ? next.k_anonymity : null;
      kOn.checked = Boolean(anon && anon.k);
      const names = (anon && Array.isArray(anon.quasi_identifiers)) ? anon.quasi_identifiers : [];
      for (const input of quasi) input.checked = names.includes(input.value);
      if (anon && anon.k !== undefined) kValue.value = String(anon.k);
      sensitive.value = anon && anon.sensitive ? String(anon.sensitive) : "";
      lValue.value = anon && anon.l !== undefined ? String(anon.l) : "";
    }

    function changed() {
      document.body.dispatchEvent(new CustomEvent("recipe-changed"));
    }

    root.addEventListener("change", (event) => {
      if (event.target === textarea) return;
      const row = event.target.closest("tr.recipe-column");
      if (row) showParams(row);
      if (event.target === kOn && kOn.checked && !quasi.some((i) => i.checked)) {
        for (const row of rows) {
          if (row.dataset.quasiFound !== "yes") continue;
          const box = quasi.find((i) => i.value === row.dataset.column);
          if (box) box.checked = true;
        }
      }
      doc = fromForm();
      textarea.value = JSON.stringify(doc, null, 2);
      jsonError.hidden = true;
      changed();
    });

    textarea.addEventListener("input", () => {
      const next = parse(textarea.value);
      if (next === null) {
        jsonError.textContent = root.dataset.invalidJson;
        jsonError.hidden = false;
        return;
      }
      jsonError.hidden = true;
      doc = next;
      toForm(doc);
      changed();
    });

    // No Enter submits anything from the editor: the run needs its confirmation.
    root.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });

    for (const row of rows) showParams(row);
  }

  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-recipe-cancel]");
    if (!cancel) return;
    const box = document.getElementById("confirm");
    if (box) box.replaceChildren();
    const button = document.getElementById("confirm-button");
    if (button) button.focus();
  });

  // A swapped-in confirmation takes the focus (its heading), so keyboard and screen-reader
  // users land on what they are asked to confirm, not on its button.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target && event.target.id === "confirm") {
      const heading = event.target.querySelector("h3");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("recipe-editor");
    if (root) editor(root);
  });
})();
