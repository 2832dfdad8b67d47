/* OrderHub operator dashboard: plain JS modules, no outside assets, no build step. Polls
   the API every 2 s. Buyer phones and street addresses arrive masked from the server;
   nothing here unmasks. The rules panel lives in rules/*.js. */
import { $, POLL_MS, TEXT, api, applyLang, esc, fen, fmtSecs, fmtTime, keyPath, reasonName,
  stageName, state, t } from "./core.js";
import { initRules, refreshRules } from "./rules/console.js";
/* ---- search and one order ------------------------------------------------------------ */
function etaText(eta) {
  if (!eta) return "-";
  if (eta.state === "estimated") return `${fmtTime(eta.expected_at)} (${fmtSecs(eta.remaining_s)})`;
  if (eta.state === "done") return `${t("etaDone")} ${fmtTime(eta.expected_at)}`;
  return t({ held: "etaHeld", cancelled: "etaCancelled" }[eta.state] || "etaUnknown");
}
function renderOrder(o) {
  const d = o.decision;
  const r = o.order.receiver;
  const bars = d ? Object.entries(d.breakdown).map(([dim, v]) => `
      <div class="barrow"><span>${esc(TEXT[state.lang].dims[dim] || dim)}</span>
        <span class="track"><span class="fill" style="width:${Math.max(0, Math.min(100, v))}%"></span></span>
        <span>${esc(Number(v).toFixed(0))}</span></div>`).join("") : "";
  const timeline = o.timeline.map((e) => `
      <li class="${e.stage === "held" ? "held" : ""}"><time>${esc(fmtTime(e.at))}</time>
        <b>${esc(stageName(e.stage))}</b>
        ${e.tracking_no ? ` · ${esc(e.tracking_no)}` : ""}
        ${e.by ? ` · ${esc(t("by"))} ${esc(e.by)}` : ""}
        ${e.note ? ` · ${esc(e.note)}` : ""}
        ${e.reasons && e.reasons.length ? ` · ${e.reasons.map(reasonName).map(esc).join(", ")}` : ""}</li>`).join("");
  return `<article class="order" data-key="${esc(keyPath(o))}">
    <div class="big">${esc(o.channel)} · ${esc(o.shop)} · <span class="order-id">${esc(o.order_id)}</span>
      ${o.lane ? `<span class="pill ${esc(o.lane)}">${esc(o.lane)}</span>` : ""}</div>
    <div class="facts">
      <div><span>${esc(t("stage"))}</span><b class="stage" data-stage="${esc(o.stage)}">${esc(stageName(o.stage))}</b></div>
      <div><span>${esc(t("tracking"))}</span><b class="tracking">${esc(o.tracking_no || "-")}</b></div>
      <div><span>${esc(t("eta"))}</span><b class="eta">${esc(etaText(o.eta))}</b></div>
      <div><span>${esc(t("packing"))}</span>${esc(d ? d.packing_group : "-")}</div>
      <div><span>${esc(t("receiver"))}</span>${esc(r.name)} ${esc(r.phone)}</div>
      <div><span></span>${esc(r.province)}${esc(r.city)}${esc(r.district)} ${esc(r.street)}${esc(r.detail)}</div>
      <div><span>${esc(t("delivery"))}</span>${esc(d ? d.delivery : o.order.delivery)}</div>
      <div><span>${esc(t("amount"))}</span>¥${esc(fen(o.order.amounts.paid_fen))}</div>
      <div><span>${esc(t("items"))}</span>${o.order.items.map((i) => `${esc(i.sku)}×${esc(i.quantity)}`).join(", ")}</div>
    </div>
    ${d ? `<div class="explain">
      <div><h3>${esc(t("decision"))}</h3>
        <div>${esc(t("score"))}: <b>${esc(d.score.toFixed(1))}</b> · ${esc(t("version"))} v${esc(d.ruleset_version)}</div>
        <div>${esc(t("rulesFired"))}: ${d.rules_fired.length ? d.rules_fired.map(esc).join(", ") : esc(t("none"))}</div>
        ${d.hold_reason ? `<div class="err-msg">${esc(reasonName(d.hold_reason))}</div>` : ""}
        ${d.anomalies.map((a) => `<div>${esc(reasonName(a.code))} (${esc(a.group)}) ${esc(a.detail)}</div>`).join("")}
        ${d.remedies.map((x) => `<div class="ok-msg">${esc(x)}</div>`).join("")}</div>
      <div><h3>${esc(t("breakdown"))}</h3>${bars}</div></div>` : ""}
    <h3>${esc(t("timeline"))}</h3><ol class="timeline">${timeline}</ol>
  </article>`;
}
async function search(q) {
  state.query = q;
  if (!q) { $("#results").innerHTML = ""; $("#search-msg").textContent = ""; return; }
  try {
    const data = await api(`orders?q=${encodeURIComponent(q)}`);
    $("#search-msg").textContent = data.results.length ? t("found", { n: data.results.length }) : t("noResult");
    $("#results").innerHTML = data.results.map(renderOrder).join("");
  } catch (err) {
    $("#search-msg").textContent = err.message;
  }
}

/* ---- lanes, chart ---------------------------------------------------------------------- */
function renderLanes(data) {
  $("#lanes").innerHTML = data.lanes.map((l) => `
    <div class="lane" data-lane="${esc(l.lane)}"><span class="pill ${esc(l.lane)}">${esc(l.lane)}</span>
      <div class="n">${esc(l.orders)}</div>
      <small>${esc(t("backlog"))} ${esc(l.backlog)} · ${esc(t("held"))} ${esc(l.held)}</small>
      <small>p50 ${esc(fmtSecs(l.latency.p50))} · p90 ${esc(fmtSecs(l.latency.p90))} · p99 ${esc(fmtSecs(l.latency.p99))}</small>
    </div>`).join("");
  const stages = Object.entries(data.stages).map(([s, n]) => `<span>${esc(stageName(s))} ${esc(n)}</span>`);
  stages.push(`<span><b>${esc(t("undecided"))} ${esc(data.undecided)}</b></span>`);
  stages.push(`<span><b>${esc(t("total"))} ${esc(data.total)}</b></span>`);
  $("#stages").innerHTML = stages.join("");
}
function renderChart(data) {
  const buckets = data.buckets;
  const w = 600, h = 170, pad = 26;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.received, b.shipped)));
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, buckets.length - 1);
  const y = (v) => h - pad - (v * (h - 2 * pad)) / max;
  const line = (k) => buckets.map((b, i) => `${x(i).toFixed(1)},${y(b[k]).toFixed(1)}`).join(" ");
  const label = (i) => (buckets[i] ? fmtTime(buckets[i].minute).slice(-8, -3) : "");
  $("#chart").innerHTML = `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(t("perMinute"))}">
    <line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#ccd3da"/>
    <text x="2" y="${pad}" font-size="10" fill="#6a7683">${max}</text>
    <text x="${pad}" y="${h - 8}" font-size="10" fill="#6a7683">${esc(label(0))}</text>
    <text x="${w - pad - 28}" y="${h - 8}" font-size="10" fill="#6a7683">${esc(label(buckets.length - 1))}</text>
    <polyline fill="none" stroke="#1c7ed6" stroke-width="2" points="${line("received")}"/>
    <polyline fill="none" stroke="#2b8a3e" stroke-width="2" stroke-dasharray="4 3" points="${line("shipped")}"/>
    <text x="${w - 150}" y="14" font-size="11" fill="#1c7ed6">— ${esc(t("received"))}</text>
    <text x="${w - 80}" y="14" font-size="11" fill="#2b8a3e">- - ${esc(t("shipped"))}</text>
  </svg>`;
}

/* ---- anomalies and actions ------------------------------------------------------------- */
function renderAnomalies(data) {
  $("#anomaly-total").textContent = data.total;
  $("#anomaly-groups").innerHTML = data.groups.map((g) =>
    `<span class="g">${esc(reasonName(g.reason))} · ${esc(g.group)} <b>${esc(g.count)}</b></span>`).join("");
  const rows = data.orders.map((o) => `<tr data-key="${esc(keyPath(o))}" data-order-id="${esc(o.order_id)}">
      <td>${esc(o.channel)} · ${esc(o.order_id)}</td>
      <td>${o.reasons.map(reasonName).map(esc).join(", ")}</td>
      <td>${o.groups.map(esc).join(", ")}</td>
      <td>${o.lane ? `<span class="pill ${esc(o.lane)}">${esc(o.lane)}</span>` : "-"}</td>
      <td>${esc(o.receiver.name)} ${esc(o.receiver.phone)} ${esc(o.receiver.province)}${esc(o.receiver.city)}${esc(o.receiver.district)}${esc(o.receiver.street)}${esc(o.receiver.detail)}</td>
      <td>${esc(fmtTime(o.held_since))}</td>
      <td><button type="button" class="act-release" data-act="release">${esc(t("release"))}</button>
        <button type="button" class="act-edit" data-act="address">${esc(t("edit"))}</button>
        <button type="button" class="act-cancel danger" data-act="cancel">${esc(t("cancel"))}</button></td>
    </tr>`);
  $("#held tbody").innerHTML = rows.join("") || `<tr><td colspan="7" class="muted">${esc(t("noHeld"))}</td></tr>`;
}
function renderDeadLetters(data) {
  $("#dead-total").textContent = data.total;
  const rows = data.items.map((d) => `<tr data-id="${esc(d.id)}">
      <td>${esc(d.channel || "-")} · ${esc(d.order_id || d.key)}</td>
      <td>${esc(d.attempts)}</td>
      <td>${esc(d.last_error)}</td>
      <td>${esc(fmtTime(d.dead_at))}</td>
      <td><button type="button" class="act-resend" data-resend="${esc(d.id)}">${esc(t("resend"))}</button></td>
    </tr>`);
  $("#dead-letters tbody").innerHTML = rows.join("") || `<tr><td colspan="5" class="muted">${esc(t("noDead"))}</td></tr>`;
}
$("#dead-letters").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-resend]");
  if (!button || needToken()) return;
  try {
    const out = await api(`dead-letters/${encodeURIComponent(button.dataset.resend)}/resend`,
      { method: "POST", body: { note: $("#action-note").value.trim() } });
    $("#action-msg").textContent = `${out.key}: ${t("resent")}`;
    $("#action-msg").className = "ok-msg";
  } catch (err) {
    $("#action-msg").textContent = `${err.status || ""} ${err.message}`;
    $("#action-msg").className = "err-msg";
  }
  await refresh();
});
function needToken() {
  if ($("#token").value.trim()) return false;
  $("#action-msg").textContent = t("needToken");
  $("#token").focus();
  return true;
}
async function act(path, action, body) {
  try {
    const out = await api(`orders/${path}/${action}`, { method: "POST", body });
    const msg = out.released ? t("released") : `${t("stillHeld")} ${out.reasons.map(reasonName).join(", ")}`;
    $("#action-msg").textContent = `${out.order_id}: ${action === "cancel" ? stageName("cancelled") : msg}`;
    $("#action-msg").className = "ok-msg";
  } catch (err) {
    $("#action-msg").textContent = `${err.status || ""} ${err.message}`;
    $("#action-msg").className = "err-msg";
  }
  await refresh();
}
$("#held").addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-act]");
  if (!button || needToken()) return;
  const row = button.closest("tr");
  const path = row.dataset.key;
  const note = $("#action-note").value.trim();
  if (button.dataset.act === "release" || button.dataset.act === "cancel") {
    act(path, button.dataset.act, { note });
  } else {
    const dialog = $("#address-dialog");
    dialog.dataset.key = path;
    $("#address-order").textContent = row.dataset.orderId;
    $("#address-form").reset();
    dialog.showModal();
  }
});
$("#address-cancel").addEventListener("click", () => $("#address-dialog").close());
$("#address-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const body = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]));
  if (!body.phone) delete body.phone;
  $("#address-dialog").close();
  act($("#address-dialog").dataset.key, "address", body);
});

/* ---- refresh loop ---------------------------------------------------------------------- */
let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [lanes, chart, anomalies, dead] = await Promise.all([
      api("lanes"), api("throughput?minutes=30"), api("anomalies"), api("dead-letters")]);
    renderLanes(lanes);
    renderChart(chart);
    renderAnomalies(anomalies);
    renderDeadLetters(dead);
    await refreshRules();
    if (state.query) await search(state.query);
    $("#updated").textContent = fmtTime(new Date().toISOString());
    $("#conn").textContent = t("live");
    $("#conn").className = "pill ok";
  } catch (err) {
    $("#conn").textContent = `${t("offline")} ${err.status || ""}`;
    $("#conn").className = "pill bad";
  } finally {
    refreshing = false;
  }
}

$("#search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  search($("#q").value.trim());
});
$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("orderhub.lang", state.lang);
  applyLang();
  refresh();
});
$("#token").value = sessionStorage.getItem("orderhub.token") || "";
$("#token").addEventListener("change", () => {
  sessionStorage.setItem("orderhub.token", $("#token").value.trim());
  refresh();
});

initRules({ needToken });
applyLang();
refresh();
setInterval(refresh, POLL_MS);
