// An audit entry's inclusion proof, checked by the browser itself: RFC 6962 leaf and node
// hashes with WebCrypto SHA-256, the checkpoint (a C2SP signed note) and each witness's
// c2sp.org/tlog-cosignature with WebCrypto Ed25519, in the formats of audit/verify.py. The
// server only supplies the data (<script type="application/json" id="proof-data">); every
// sentence shown comes from the page's data-* attributes, in the reader's language.
"use strict";

(() => {
  const ED25519 = 0x01;
  const COSIGNATURE = 0x04;
  const PINNED = "yaosu.audit.pinned-log-key";
  const ZONE = "Asia/Shanghai"; // the console shows every time in Beijing time
  const utf8 = new TextEncoder();
  const BASE_POINT = Uint8Array.of(0x58, ...new Array(31).fill(0x66));

  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const hex = (bytes) => Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
  const fromHex = (text) => {
    if (typeof text !== "string" || !/^([0-9a-f]{2})*$/i.test(text)) throw new Error("not hex");
    return Uint8Array.from(text.match(/../g) || [], (pair) => parseInt(pair, 16));
  };
  const fromBase64 = (text) => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw new Error("not base64");
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));
  const half = (n) => Math.floor(n / 2); // not >>: indices may pass 2**31

  // RFC 9162 2.1.3.2, step for step as verify_inclusion in audit/verify.py; null if it fails.
  async function rootFromProof(index, size, leaf, proof) {
    if (!(index < size)) return null;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (p.length !== 32 || sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn !== 0 && fn % 2 === 0) { fn = half(fn); sn = half(sn); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 ? r : null;
  }

  // A verifier key: <name>+<hex key id>+<base64(type || public key)>.
  function parseKey(text) {
    const t = String(text).trim();
    const a = t.indexOf("+");
    const b = t.indexOf("+", a + 1);
    if (a < 1 || b < 0) throw new Error("not a verifier key");
    const raw = fromBase64(t.slice(b + 1));
    if (raw.length !== 33) throw new Error("not an Ed25519 verifier key");
    return { name: t.slice(0, a), id: t.slice(a + 1, b), kind: raw[0], pub: raw.slice(1) };
  }
  const keyId = async (key) =>
    (await sha256(concat(utf8.encode(`${key.name}\n`), Uint8Array.of(key.kind), key.pub))).slice(0, 4);
  const keyValid = async (key, kind) => key.kind === kind && hex(await keyId(key)) === key.id;

  // A signed note: text, a blank line, then one "— <name> <base64>" line per signature.
  function parseNote(note) {
    const cut = note.lastIndexOf("\n\n");
    if (cut < 0 || !note.endsWith("\n")) throw new Error("not a signed note");
    const body = `${note.slice(0, cut)}\n`;
    const lines = body.split("\n");
    return {
      body,
      size: Number(lines[1]),
      root: fromBase64(lines[2] || ""),
      signatures: note.slice(cut + 2).replace(/\n+$/, "").split("\n"),
    };
  }

  // "ok" (with a cosignature's time), "none" (no line of this key) or "bad".
  async function signedBy(key, note) {
    const id = await keyId(key);
    const pub = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
    let seen = false;
    for (const line of note.signatures) {
      const parts = line.replace(/^— /, "").split(" ");
      if (parts.length !== 2 || parts[0] !== key.name) continue;
      let raw;
      try { raw = fromBase64(parts[1]); } catch (_) { continue; }
      if (!equal(raw.slice(0, 4), id)) continue;
      seen = true;
      let signature = raw.slice(4), message = utf8.encode(note.body), time = null;
      if (key.kind === COSIGNATURE) {
        if (raw.length < 12) continue;
        time = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
        signature = raw.slice(12);
        message = utf8.encode(`cosignature/v1\ntime ${time}\n${note.body}`);
      }
      let ok = false;
      try { ok = await crypto.subtle.verify({ name: "Ed25519" }, pub, signature, message); } catch (_) { ok = false; }
      if (ok) return { state: "ok", time };
    }
    return { state: seen ? "bad" : "none" };
  }

  async function run(box) {
    const say = (name, params = {}) =>
      (box.dataset[name] || name).replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
    const list = box.querySelector("#verify-checks");
    const summary = box.querySelector("#verify-summary");
    const states = [];
    const add = (state, text) => {
      const item = document.createElement("li");
      item.className = state;
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = { pass: "✓", fail: "✗" }[state] || "·";
      mark.title = say({ pass: "pass", fail: "fail" }[state] || "note");
      item.append(mark, text);
      list.append(item);
      states.push(state);
    };
    list.replaceChildren();
    summary.className = "";
    summary.textContent = say("running");
    delete box.dataset.result;
    try {
      if (!window.isSecureContext || !window.crypto || !crypto.subtle) throw new Error("no WebCrypto");
      // Ed25519 in WebCrypto is recent: try the curve's base point, a valid public key.
      await crypto.subtle.importKey("raw", BASE_POINT, { name: "Ed25519" }, false, ["verify"]);
    } catch (_) {
      add("fail", say("noCrypto"));
    }
    if (!states.length) {
      try {
        await check(JSON.parse(document.getElementById("proof-data").textContent), say, add);
      } catch (error) {
        add("fail", say("broken", { problem: error.message }));
      }
    }
    const failed = states.includes("fail");
    summary.textContent = say(failed ? "someBad" : "allOk");
    summary.className = failed ? "fail" : "pass";
    box.dataset.result = failed ? "fail" : "pass";
  }

  async function check(data, say, add) {
    const key = parseKey(data.log_key);
    const keyOk = await keyValid(key, ED25519);
    add(keyOk ? "pass" : "fail", say(keyOk ? "keyOk" : "keyBad", { name: key.name }));

    const presented = String(data.log_key).trim();
    let pinned = null;
    try { pinned = window.localStorage.getItem(PINNED); } catch (_) { pinned = null; }
    if (pinned === null) {
      try { window.localStorage.setItem(PINNED, presented); } catch (_) { /* private mode */ }
      add("info", say("pinNew"));
    } else {
      add(pinned === presented ? "pass" : "fail", say(pinned === presented ? "pinOk" : "pinBad"));
    }

    const note = parseNote(data.note);
    const signed = keyOk ? (await signedBy(key, note)).state === "ok" : false;
    add(signed ? "pass" : "fail", say(signed ? "sigOk" : "sigBad", { size: note.size }));

    const leaf = await leafHash(utf8.encode(data.leaf));
    add("info", say("leaf", { hash: hex(leaf) }));
    const root = await rootFromProof(data.index, data.size, leaf, data.proof.map(fromHex));
    const included = root !== null && note.size === data.size && equal(root, note.root);
    add(
      included ? "pass" : "fail",
      say(included ? "inclOk" : "inclBad", { index: data.index, size: data.size, count: data.proof.length }),
    );

    for (const witness of data.witness_keys) {
      const words = { name: witness.name, org: witness.org };
      let result = { state: "bad" };
      try {
        const wkey = parseKey(witness.key);
        if (await keyValid(wkey, COSIGNATURE) && wkey.name === witness.name) result = await signedBy(wkey, note);
      } catch (_) { result = { state: "bad" }; }
      if (result.state === "ok") {
        const time = new Date(Number(result.time) * 1000).toLocaleString(document.documentElement.lang, {
          timeZone: ZONE, dateStyle: "long", timeStyle: "medium",
        });
        add("pass", say("cosigOk", { ...words, time }));
      } else {
        add(result.state === "none" ? "info" : "fail", say(result.state === "none" ? "cosigNone" : "cosigBad", words));
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("verify");
    if (!box) return;
    const again = document.getElementById("verify-again");
    if (again) again.addEventListener("click", () => run(box));
    run(box);
  });
})();
