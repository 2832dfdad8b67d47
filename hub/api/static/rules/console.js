/* The rules panel: the block builder beside the YAML view (kept in step both ways through
   POST /rules/builder/open and /save), check with problems and conflict warnings on their
   lines and blocks, dry-run, drafts, shadow run, two-person publishing, versions with
   their diff, roll back. The API is /work/contract-22.md's. */
import { $, api, esc, onLang, reasonName, state, t } from "../core.js";
import { fromDocument, problemPath, pathKey, toDocument } from "./blocks.js";
import { createBuilder } from "./builder.js";
import {
  out, redrawDiff, redrawOut, renderDrafts, renderShadow, renderVersions, wireFlow,
} from "./flow.js";
import "./i18n.js";

const SYNC_MS = 500;
const rules = { builder: null, blocksDirty: false, yamlDirty: false, builderOk: true,
  opened: false, timer: null, edits: 0 };

export const errorText = (err) => `${err.status || ""} ${err.message}`.trim();
/* The sync line: a text key (shown in the page's language, again after a switch) and
   whatever detail the API gave. */
let lastSync = null;
function syncMsg(key, cls = "muted", detail = "") {
  lastSync = [key, cls, detail];
  $("#rb-sync").textContent = `${key ? t(key) : ""} ${detail}`.trim();
  $("#rb-sync").className = cls;
}

/* ---- blocks <-> YAML ------------------------------------------------------------------- */
function ruleLines(text) {
  const lines = new Map();
  text.split("\n").forEach((line, i) => {
    const m = /^\s*-\s*id:\s*["']?([^"'\s#]+)/.exec(line);
    if (m) lines.set(m[1], i + 1);
  });
  return lines;
}
function flagsFor(problems, level, text) {
  const model = rules.builder.model;
  const lines = [...ruleLines(text).entries()].map(([id, line]) => ({ id, line }));
  return problems.map((p) => {
    let path = problemPath(model, p);
    if (!path && p.line) {
      const owner = lines.filter((l) => l.line <= p.line).pop();
      const rule = owner ? model.rules.findIndex((r) => r.id === owner.id) : -1;
      if (rule >= 0) path = { rule, at: [] };
    }
    if (!path) return null;
    return { rule: path.rule, key: path.at.length ? pathKey(path) : null, level,
      line: p.line, reason: p.reason };
  }).filter(Boolean);
}
async function saveBlocks() {
  clearTimeout(rules.timer);
  const doc = toDocument(rules.builder.model);
  const edit = rules.edits;
  const saved = await api("rules/builder/save", { method: "POST", body: { document: doc } });
  rules.blocksDirty = rules.edits !== edit;  // edited again while this one was saved
  if (document.activeElement !== $("#rule-text")) $("#rule-text").value = saved.text;
  const flags = [...flagsFor(saved.problems || [], "error", saved.text),
    ...flagsFor(saved.warnings || [], "warn", saved.text)];
  if (flags.length) rules.builder.flag(flags);
  if (!rules.blocksDirty) syncMsg("inSync", "ok-msg");
  return saved.text;
}
async function openYaml(text) {
  clearTimeout(rules.timer);
  try {
    const data = await api("rules/builder/open", { method: "POST", body: { text } });
    rules.yamlDirty = false;
    rules.opened = true;
    rules.builder.setModel(fromDocument(data.document, data.next_version));
    syncMsg("inSync", "ok-msg");
    return true;
  } catch (err) {
    if (err.status === 404 || err.status === 405) builderOff(err);
    else if (err.status === 401) syncMsg("needAuthor", "err-msg");
    else syncMsg("yamlBad", "err-msg", ((err.data && err.data.problems) || []).map((p) =>
      `${p.line}: ${p.reason}`).join("; ") || errorText(err));
    return false;
  }
}
function builderOff(err) {
  rules.builderOk = false;
  syncMsg("builderOff", "err-msg", errorText(err));
}
function scheduleSave() {
  rules.edits += 1;
  rules.blocksDirty = true;
  syncMsg("syncing");
  clearTimeout(rules.timer);
  rules.timer = setTimeout(() => saveBlocks().catch((err) => syncMsg("", "err-msg", errorText(err))), SYNC_MS);
}
/* The rule file the buttons act on: the blocks' when they were edited last, else the
   YAML view's text. */
export async function currentText() {
  if (rules.blocksDirty && rules.builderOk) {
    try { return await saveBlocks(); } catch (err) { syncMsg("", "err-msg", errorText(err)); }
  }
  return $("#rule-text").value;
}

/* ---- check and dry-run ----------------------------------------------------------------- */
function selectLine(line) {
  const area = $("#rule-text");
  const lines = area.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[line - 1] || "").length);
  const lineHeight = area.scrollHeight / Math.max(1, lines.length);
  area.scrollTop = Math.max(0, (line - 4) * lineHeight);
}
function problemList(items, cls) {
  const where = (p) => (p.file ? `${p.file}:${p.line}` : t("lineN", { n: p.line }));
  return `<ul class="${cls}">${items.map((p) => `<li data-line="${esc(p.line)}" tabindex="0"
    role="button">${esc(where(p))}: ${esc(p.reason)}</li>`).join("")}</ul>`;
}
export function showProblems(err, text = $("#rule-text").value, head = () => "") {
  const data = err.data || {};
  const problems = data.problems || [];
  const warnings = data.warnings || [];
  out(() => `${head()}${err.status === 401 ? `<p class="err-msg">${esc(t("needAuthor"))}</p>`
    : err.message ? `<p class="err-msg">${esc(err.message)}</p>` : ""}
    ${problems.length ? problemList(problems, "problems") : ""}
    ${warnings.length ? `<h3>${esc(t("checkWarn"))}</h3>${problemList(warnings, "warnings")}` : ""}`);
  if (rules.builder) {
    rules.builder.flag([...flagsFor(problems, "error", text), ...flagsFor(warnings, "warn", text)]);
  }
}
async function check() {
  const text = await currentText();
  try {
    const res = await api("rules/check", { method: "POST", body: { text } });
    showProblems({ message: "", data: res }, text, () => (res.ok
      ? `<p class="ok-msg">${esc(t("checkOk", { v: res.version, n: res.rules }))}</p>` : ""));
  } catch (err) { showProblems(err, text); }
}
async function dryRun() {
  const text = await currentText();
  try {
    const n = Number($("#dry-n").value) || 500;
    const res = await api("rules/dry-run", { method: "POST", body: { text, n } });
    const ex = res.examples.map((e) => `<tr><td>${esc(e.order_id)}</td>
        <td>${esc(e.before.lane)} → ${esc(e.after.lane)}</td>
        <td>${esc(e.before.packing_group)} → ${esc(e.after.packing_group)}</td>
        <td>${esc(reasonName(e.before.hold_reason) || "-")} → ${esc(reasonName(e.after.hold_reason) || "-")}</td></tr>`).join("");
    out(() => `<p class="dry-summary">${esc(t("dryResult", { n: res.orders, lane: res.changed.lane,
      group: res.changed.packing_group, hold: res.changed.hold, any: res.changed.any }))}</p>
      ${ex ? `<table class="grid"><thead><tr><th>${esc(t("examples"))}</th><th>${esc(t("lane"))}</th>
        <th>${esc(t("packing"))}</th><th>${esc(t("held"))}</th></tr></thead><tbody>${ex}</tbody></table>` : ""}`);
  } catch (err) { showProblems(err, text); }
}

/* ---- loading, the refresh loop ----------------------------------------------------------- */
/* The rules in force as the start of the next version: its `version:` line raised to the
   number a publish needs (comments and layout kept). */
async function loadRules() {
  if (!state.rulesVersion) return;
  const data = await api(`rules/${state.rulesVersion}`);
  const text = data.text.replace(/^version[ \t]*:[^\n]*$/m, `version: ${state.nextRulesVersion}`);
  $("#rule-text").value = text;
  out(() => "");
  if (rules.builderOk) await openYaml(text);
}
async function loadSchema() {
  try {
    rules.builder.setSchema(await api("rules/builder/schema"));
    rules.builderOk = true;
  } catch (err) {
    builderOff(err);
  }
}

let schemaTried = false;
export async function refreshRules() {
  const data = await api("rules");
  renderVersions(data);
  if (!schemaTried) {
    schemaTried = true;
    await loadSchema();
  }
  if (!$("#rule-text").value && document.activeElement !== $("#rule-text")) await loadRules();
  await Promise.all([
    api("rules/drafts").then(renderDrafts, () => renderDrafts(null)),
    api(`rules/shadow?minutes=${Number($("#shadow-minutes").value) || 15}`)
      .then(renderShadow, () => renderShadow(null)),
  ]);
}

export function initRules() {
  rules.builder = createBuilder($("#rb"), { onChange: scheduleSave });
  $("#rule-load").addEventListener("click", loadRules);
  $("#rule-check").addEventListener("click", check);
  $("#rule-dry").addEventListener("click", dryRun);
  $("#rule-open").addEventListener("click", () => openYaml($("#rule-text").value));
  $("#rule-text").addEventListener("input", () => {
    rules.yamlDirty = true;
    rules.blocksDirty = false;
    clearTimeout(rules.timer);
    if (rules.builderOk) rules.timer = setTimeout(() => openYaml($("#rule-text").value), SYNC_MS * 2);
  });
  // blocks open with a rules author's token: try again once one is typed
  $("#token").addEventListener("change", () => {
    if (!rules.opened && rules.builderOk && $("#rule-text").value) openYaml($("#rule-text").value);
  });
  $("#rule-out").addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-line]");
    if (li && Number(li.dataset.line)) selectLine(Number(li.dataset.line));
  });
  wireFlow({ currentText, refresh: refreshRules, openText: async (text) => {
    $("#rule-text").value = text;
    await openYaml(text);
  } });
  onLang(() => {
    rules.builder.render();
    if (lastSync) syncMsg(...lastSync);
    redrawOut();
    redrawDiff();
    renderDrafts(undefined);
    renderShadow(undefined);
  });
}
