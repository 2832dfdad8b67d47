/* From a checked rule file to the rules in force: save a draft (the author's token, top
   right), run it in shadow beside the rules in force, publish it with an approver's token
   typed apart (another person: the API refuses the author's own, 403), roll back in one
   action; versions with author, approver, times and a readable diff. A publish or a
   rollback asks for a second click instead of a dialog. */
import { $, TEXT, api, esc, fmtTime, reasonName, state, t } from "../core.js";

const ARM_MS = 5000;
const flow = { drafts: null, shadow: null, versions: null, armed: null, shown: {} };
let hooks = null;

/* The panel's message line, drawn again in the other language after a switch. */
let lastOut = () => "";
export function out(render) {
  lastOut = render;
  $("#rule-out").innerHTML = render();
}
export const redrawOut = () => { $("#rule-out").innerHTML = lastOut(); };
const failed = (err) => {
  const problems = (err.data && err.data.problems) || [];
  out(() => `<p class="err-msg">${esc(`${err.status || ""} ${err.message}`.trim())}</p>${problems.length
    ? `<ul class="problems">${problems.map((p) => `<li>${esc(p.file)}:${esc(p.line)}: ${esc(p.reason)}</li>`).join("")}</ul>`
    : ""}`);
};
const isArmed = (key) => flow.armed && flow.armed.key === key && flow.armed.until > Date.now();
function armButton(key, cls, label, attrs) {
  const armed = isArmed(key);
  return `<button type="button" class="${cls}${armed ? " armed" : ""}" ${attrs}>${esc(armed ? t("confirmAgain") : label)}</button>`;
}
/* First click arms the button; a second one within 5 s says yes. */
function confirmed(key) {
  if (isArmed(key)) {
    flow.armed = null;
    rerender();
    return true;
  }
  flow.armed = { key, until: Date.now() + ARM_MS };
  rerender();
  setTimeout(rerender, ARM_MS + 50);
  return false;
}
/* Only when what it shows changed: a re-render every poll would steal the focus. */
function paint(name, selector, data, html) {
  const sig = JSON.stringify([data, state.lang, flow.armed]);
  if (flow.shown[name] === sig) return;
  flow.shown[name] = sig;
  $(selector).innerHTML = html;
}
function rerender() {
  renderDrafts(undefined);
  renderShadow(undefined);
  if (flow.versions) renderVersions(flow.versions);
}
function approverToken() {
  const token = $("#approver-token").value.trim();
  if (!token) {
    out(() => `<p class="err-msg">${esc(t("needApprover"))}</p>`);
    $("#approver-token").focus();
  }
  return token;
}
function authorToken() {
  if ($("#token").value.trim()) return true;
  out(() => `<p class="err-msg">${esc(t("needAuthor"))}</p>`);
  $("#token").focus();
  return false;
}

/* ---- drafts ------------------------------------------------------------------------------ */
export function renderDrafts(data) {
  if (data !== undefined) flow.drafts = data;
  const drafts = flow.drafts;
  if (!drafts) { paint("drafts", "#drafts tbody", null, `<tr><td colspan="6" class="muted">-</td></tr>`); return; }
  const rows = drafts.drafts.map((d) => `<tr data-draft="${esc(d.draft)}">
      <td>${esc(d.draft)}</td><td>${esc(d.author)}</td><td>${esc(d.comment || "")}</td>
      <td>${esc(fmtTime(d.created_at))}</td><td><span class="pill">${esc(TEXT[state.lang].draftStatus[d.status] || d.status)}</span></td>
      <td><button type="button" class="draft-open" data-open="${esc(d.draft)}">${esc(t("openDraft"))}</button>
        ${d.status === "published" ? "" : `<button type="button" class="draft-shadow"
          data-shadow="${esc(d.draft)}">${esc(t("shadowStart"))}</button>
        ${armButton(`publish:${d.draft}`, "draft-publish primary", t("publish"), `data-publish="${esc(d.draft)}"`)}`}</td>
    </tr>`).join("");
  paint("drafts", "#drafts tbody", drafts,
    rows || `<tr><td colspan="6" class="muted">${esc(t("noDrafts"))}</td></tr>`);
}
async function saveDraft() {
  if (!authorToken()) return;
  const text = await hooks.currentText();
  try {
    const res = await api("rules/drafts", { method: "POST",
      body: { text, comment: $("#draft-comment").value.trim() } });
    out(() => `<p class="ok-msg draft-saved" data-draft="${esc(res.draft)}">${esc(t("draftSaved", { d: res.draft, a: res.author }))}</p>`);
    await hooks.refresh();
  } catch (err) { failed(err); }
}
async function openDraft(draft) {
  try {
    const d = await api(`rules/drafts/${encodeURIComponent(draft)}`);
    await hooks.openText(d.text);
  } catch (err) { failed(err); }
}
async function publish(draft) {
  const token = approverToken();
  if (!token || !confirmed(`publish:${draft}`)) return;
  try {
    const res = await api(`rules/drafts/${encodeURIComponent(draft)}/publish`,
      { method: "POST", body: {}, token });
    $("#approver-token").value = "";
    out(() => `<p class="ok-msg published" data-version="${esc(res.version)}">${esc(t("published", { v: res.version }))}
      · ${esc(t("publishedByAuthor", { by: res.by, a: res.author }))}</p>`);
    await hooks.refresh();
  } catch (err) { failed(err); }
}

/* ---- shadow run ---------------------------------------------------------------------------- */
export function renderShadow(data) {
  if (data !== undefined) flow.shadow = data;
  const s = flow.shadow;
  $("#shadow-stop").hidden = !(s && s.running);
  const done = flow.drafts?.drafts.some((d) => String(d.draft) === String(s?.draft) && d.status === "published");
  $("#shadow-publish").hidden = !(s && s.running) || Boolean(done);
  if (!s || !s.running) {
    const last = s && s.orders ? `<p class="shadow-last">${esc(t("shadowLast", { d: s.draft ?? "-" }))}
      ${esc(t("shadowResult", { lane: s.changed.lane, group: s.changed.packing_group,
      hold: s.changed.hold, any: s.changed.any }))}</p>` : "";
    paint("shadow", "#shadow-out", s, `<p class="muted">${esc(s === null ? "-" : t("shadowIdle"))}</p>${last}`);
    return;
  }
  $("#shadow-publish").dataset.publish = s.draft;
  const ex = (s.examples || []).map((e) => `<tr><td>${esc(e.channel)} · ${esc(e.order_id)}</td>
      <td>${esc(e.before.lane)} → ${esc(e.after.lane)}</td>
      <td>${esc(e.before.packing_group)} → ${esc(e.after.packing_group)}</td>
      <td>${esc(reasonName(e.before.hold_reason) || "-")} → ${esc(reasonName(e.after.hold_reason) || "-")}</td>
      <td>${(e.rules_fired || []).map(esc).join(", ")}</td></tr>`).join("");
  paint("shadow", "#shadow-out", s, `
    <p class="shadow-running">${esc(t("shadowRunning", { d: s.draft, since: fmtTime(s.since),
      batches: s.batches, orders: s.orders }))}</p>
    <p class="shadow-summary" data-any="${esc(s.changed.any)}" data-group="${esc(s.changed.packing_group)}">${esc(t("shadowResult", {
      lane: s.changed.lane, group: s.changed.packing_group, hold: s.changed.hold, any: s.changed.any }))}</p>
    ${ex ? `<table class="grid shadow-examples"><thead><tr><th>${esc(t("examplesShadow"))}</th><th>${esc(t("lane"))}</th>
      <th>${esc(t("packing"))}</th><th>${esc(t("held"))}</th><th>${esc(t("rulesFired"))}</th></tr></thead>
      <tbody>${ex}</tbody></table>` : ""}`);
  const armed = isArmed(`publish:${s.draft}`);
  $("#shadow-publish").textContent = armed ? t("confirmAgain") : t("shadowPublish");
  $("#shadow-publish").classList.toggle("armed", armed);
}
async function startShadow(draft) {
  if (!authorToken()) return;
  try {
    await api("rules/shadow", { method: "POST", body: { draft } });
    out(() => `<p class="ok-msg">${esc(t("shadowStarted", { d: draft }))}</p>`);
    await hooks.refresh();
  } catch (err) { failed(err); }
}
async function stopShadow() {
  if (!authorToken()) return;
  try {
    await api("rules/shadow", { method: "DELETE" });
    out(() => `<p class="ok-msg">${esc(t("shadowStopped"))}</p>`);
    await hooks.refresh();
  } catch (err) { failed(err); }
}

/* ---- versions, diff, roll back --------------------------------------------------------------- */
export function renderVersions(data) {
  flow.versions = data;
  state.rulesVersion = data.current;
  state.nextRulesVersion = Math.max(0, ...data.versions.map((v) => v.version)) + 1;
  $("#rules-version").textContent = data.current ? `v${data.current}` : "-";
  paint("versions", "#versions tbody", data, data.versions.map((v) => `<tr data-version="${esc(v.version)}">
      <td>v${esc(v.version)} ${v.in_force ? `<span class="pill ok">${esc(t("inForce"))}</span>` : ""}</td>
      <td>${esc(v.author || v.published_by)}</td><td>${esc(v.approver || v.published_by)}</td>
      <td>${esc(fmtTime(v.drafted_at))}</td><td>${esc(fmtTime(v.published_at))}</td>
      <td><button type="button" data-diff="${esc(v.version)}">${esc(t("diff"))}</button>
        ${v.in_force ? "" : armButton(`rollback:${v.version}`, "", t("rollback"), `data-rollback="${esc(v.version)}"`)}</td>
    </tr>`).join(""));
}
let lastDiff = null;
function drawDiff(d) {
  lastDiff = d;
  const lines = (d.diff || "").split("\n").map((line) => {
    const cls = line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
    return `<span class="${cls}">${esc(line)}</span>`;
  }).join("\n");
  $("#version-diff").hidden = false;
  $("#version-diff").innerHTML = `<b>${esc(t("diffOf", { v: d.version, a: d.against ?? "-" }))}</b>\n${
    d.diff ? lines : esc(t("noDiff"))}`;
}
export const redrawDiff = () => { if (lastDiff) drawDiff(lastDiff); };
async function showDiff(version) {
  try {
    drawDiff(await api(`rules/${version}/diff`));
  } catch (err) { failed(err); }
}
async function rollback(version) {
  const token = approverToken();
  if (!token || !confirmed(`rollback:${version}`)) return;
  try {
    const res = await api("rules/rollback", { method: "POST", body: { version }, token });
    out(() => `<p class="ok-msg">${esc(t("rolledBack", { v: res.version }))}</p>`);
    await hooks.refresh();
  } catch (err) { failed(err); }
}

export function wireFlow(given) {
  hooks = given;
  $("#rule-draft").addEventListener("click", saveDraft);
  $("#drafts").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b?.dataset.open) openDraft(b.dataset.open);
    else if (b?.dataset.shadow) startShadow(b.dataset.shadow);
    else if (b?.dataset.publish) publish(b.dataset.publish);
  });
  $("#shadow-stop").addEventListener("click", stopShadow);
  $("#shadow-publish").addEventListener("click", () => publish($("#shadow-publish").dataset.publish));
  $("#shadow-minutes").addEventListener("change", () => hooks.refresh());
  $("#versions").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (b?.dataset.diff) showDiff(Number(b.dataset.diff));
    else if (b?.dataset.rollback) rollback(Number(b.dataset.rollback));
  });
}
