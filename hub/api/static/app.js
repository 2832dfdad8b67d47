/* OrderHub operator dashboard: plain JS, no outside assets. Polls the API every 2 s.
   Buyer phones and street addresses arrive masked from the server; nothing here unmasks. */
"use strict";

const POLL_MS = 2000;

const TEXT = {
  zh: {
    title: "订单中台 · 运营看板", rulesInForce: "规则版本", updated: "更新于", live: "实时",
    offline: "连接中断", token: "操作令牌", search: "查询", searchHint: "订单号 / 运单号 / 手机尾号(4位)",
    lanes: "通道与积压", perMinute: "每分钟订单数", anomalies: "待处理异常", order: "订单",
    reason: "原因", group: "负责组", lane: "通道", receiver: "收件人", heldSince: "挂起时间",
    actions: "操作", ruleConsole: "规则控制台", version: "版本", publishedBy: "发布人",
    publishedAt: "发布时间", loadCurrent: "载入当前版本", check: "检查", lastN: "最近订单数",
    dryRun: "试运行", publish: "发布", editAddress: "修改地址并重新校验", province: "省",
    city: "市", district: "区县", street: "街道", detail: "详细地址",
    phoneOptional: "手机号(不改可留空)", note: "备注", close: "关闭", saveRecheck: "保存并重新校验",
    release: "放行", cancel: "取消订单", edit: "改地址", rollback: "回滚到此版本",
    inForce: "生效中", stage: "当前环节", eta: "预计完成", tracking: "运单号", packing: "打包组",
    score: "优先级得分", rulesFired: "命中规则", none: "无", timeline: "时间线",
    breakdown: "得分构成", decision: "决策说明", noResult: "没有找到订单", found: "找到 {n} 个订单",
    backlog: "积压", held: "挂起", orders: "订单", undecided: "待决策", total: "合计",
    received: "接收", shipped: "发货", needToken: "请先在右上角填写操作令牌",
    actionNote: "处理备注(放行/取消时记录)", done: "已完成",
    released: "已放行", stillHeld: "仍挂起:", checkOk: "检查通过:版本 {v},{n} 条规则",
    dryResult: "最近 {n} 个订单中:通道变化 {lane},打包组变化 {group},挂起变化 {hold}(共 {any} 个订单受影响)",
    published: "已发布版本 {v}", confirmPublish: "确认发布这个规则版本?", confirmRollback: "确认回滚到版本 {v}?",
    etaHeld: "挂起中,处理后重新估算", etaDone: "已完成", etaCancelled: "已取消", etaUnknown: "数据不足",
    delivery: "配送", amount: "实付", items: "商品", by: "操作人", before: "原", after: "新",
    examples: "示例", noHeld: "暂无挂起订单",
    deadLetters: "仓库拒收(死信)", attempts: "尝试次数", lastError: "最后错误", deadAt: "转入死信",
    resend: "重新下发", resent: "已重新下发", noDead: "暂无死信",
    stages: { received: "已接收", validated: "已校验", scored: "已评分", routed: "已分派",
      held: "挂起", released: "已放行", auto_remedied: "已自动修正", dispatched: "已下发仓库",
      picked: "已拣货", packed: "已打包", shipped: "已发货", cancelled: "已取消",
      intercepted: "已拦截", amended: "已改单", intercept_too_late: "拦截不及",
      reconcile_mismatch: "对账不一致", dispatch_failed: "下发失败", shipped_after_cancel: "取消后发货" },
    reasons: { incomplete_address: "地址不完整", remote_standard_express: "偏远地区普通快递",
      out_of_stock_paid: "已付款缺货", payment_mismatch: "支付金额异常",
      duplicate_order: "疑似重复订单", invalid_phone: "手机号无效",
      reconcile_mismatch: "对账不一致", rule_hold: "规则挂起",
      intercept_too_late: "仓库已打包/发货，拦截不及",
      dispatch_failed: "仓库多次拒收，已转死信", shipped_after_cancel: "买家已取消但仓库已发货" },
    dims: { order_type: "订单类型", customer_tier: "会员等级", region: "配送区域", inventory: "库存" },
  },
  en: {
    title: "OrderHub · Operations", rulesInForce: "Rules", updated: "Updated", live: "live",
    offline: "offline", token: "Token", search: "Search", searchHint: "Order id / tracking no / phone last 4",
    lanes: "Lanes and backlog", perMinute: "Orders per minute", anomalies: "Open anomalies",
    order: "Order", reason: "Reason", group: "Group", lane: "Lane", receiver: "Receiver",
    heldSince: "Held since", actions: "Actions", ruleConsole: "Rule console", version: "Version",
    publishedBy: "By", publishedAt: "Published", loadCurrent: "Load current", check: "Check",
    lastN: "Last N orders", dryRun: "Dry-run", publish: "Publish",
    editAddress: "Edit address and re-check", province: "Province", city: "City",
    district: "District", street: "Street", detail: "Detail", phoneOptional: "Phone (blank: keep)",
    note: "Note", close: "Close", saveRecheck: "Save and re-check", release: "Release",
    cancel: "Cancel order", edit: "Edit address", rollback: "Roll back to this", inForce: "in force",
    stage: "Stage", eta: "Expected completion", tracking: "Tracking no", packing: "Packing group",
    score: "Priority score", rulesFired: "Rules fired", none: "none", timeline: "Timeline",
    breakdown: "Score breakdown", decision: "Decision", noResult: "No order found",
    found: "{n} order(s) found", backlog: "backlog", held: "held", orders: "orders",
    undecided: "undecided", total: "total", received: "received", shipped: "shipped",
    needToken: "Enter the operator token (top right) first",
    actionNote: "Note recorded with a release or cancel", done: "done", released: "released", stillHeld: "still held:",
    checkOk: "Check passed: version {v}, {n} rules",
    dryResult: "Of the last {n} orders: lane changes {lane}, packing group changes {group}, hold changes {hold} ({any} orders affected)",
    published: "Published version {v}", confirmPublish: "Publish this rule set?",
    confirmRollback: "Roll back to version {v}?", etaHeld: "held; estimated again once handled",
    etaDone: "completed", etaCancelled: "cancelled", etaUnknown: "not enough data",
    delivery: "Delivery", amount: "Paid", items: "Items", by: "by", before: "before", after: "after",
    examples: "Examples", noHeld: "No held orders",
    deadLetters: "Refused by the warehouse (dead letters)", attempts: "Tries", lastError: "Last error",
    deadAt: "Dead-lettered", resend: "Resend", resent: "sent again", noDead: "No dead letters",
    stages: { received: "received", validated: "validated", scored: "scored", routed: "routed",
      held: "held", released: "released", auto_remedied: "auto-remedied", dispatched: "dispatched",
      picked: "picked", packed: "packed", shipped: "shipped", cancelled: "cancelled",
      intercepted: "intercepted", amended: "amended", intercept_too_late: "intercept too late",
      reconcile_mismatch: "reconcile mismatch", dispatch_failed: "dispatch failed",
      shipped_after_cancel: "shipped after cancel" },
    reasons: { incomplete_address: "incomplete address", remote_standard_express: "remote region, standard express",
      out_of_stock_paid: "out of stock, paid", payment_mismatch: "payment mismatch",
      duplicate_order: "duplicate order", invalid_phone: "invalid phone",
      reconcile_mismatch: "reconcile mismatch", rule_hold: "held by a rule",
      intercept_too_late: "too late to intercept (packed or shipped)",
      dispatch_failed: "refused by the warehouse at every try (dead letter)",
      shipped_after_cancel: "the buyer cancelled, the warehouse shipped" },
    dims: { order_type: "order type", customer_tier: "customer tier", region: "region", inventory: "inventory" },
  },
};

const state = {
  lang: localStorage.getItem("orderhub.lang") || "zh",
  query: "",
  lastOrders: null,
  rulesVersion: null,
};

const $ = (sel) => document.querySelector(sel);
const t = (key, vars) => {
  let s = TEXT[state.lang][key] ?? TEXT.zh[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
};
const stageName = (s) => TEXT[state.lang].stages[s] || s;
const reasonName = (r) => (r ? TEXT[state.lang].reasons[r] || r : "");

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
/* Business time is Asia/Shanghai wherever the browser is. */
const SHANGHAI = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", month: "2-digit",
  day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
function fmtTime(iso) {
  if (!iso) return "-";
  const part = {};
  for (const p of SHANGHAI.formatToParts(new Date(iso))) part[p.type] = p.value;
  return `${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}
function fmtSecs(s) {
  if (s === null || s === undefined) return "-";
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${(s / 60).toFixed(1)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}
const fen = (n) => (n / 100).toFixed(2);
const keyPath = (o) => [o.channel, o.shop, o.order_id].map(encodeURIComponent).join("/");

/* ---- HTTP ---------------------------------------------------------------------------- */
function headers(json) {
  const h = {};
  const token = $("#token").value.trim();
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h["Content-Type"] = "application/json";
  return h;
}
async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: headers(options.body !== undefined) };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  const res = await fetch(`api/${path}`, init);
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (!res.ok) {
    const err = new Error((data && (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail))) || res.statusText);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

/* ---- i18n ---------------------------------------------------------------------------- */
function applyLang() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  $("#lang").textContent = state.lang === "zh" ? "English" : "中文";
  document.title = t("title");
}

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

/* ---- rule console ---------------------------------------------------------------------- */
function renderVersions(data) {
  state.rulesVersion = data.current;
  $("#rules-version").textContent = data.current ? `v${data.current}` : "-";
  $("#versions tbody").innerHTML = data.versions.map((v) => `<tr>
      <td>v${esc(v.version)} ${v.in_force ? `<span class="pill ok">${esc(t("inForce"))}</span>` : ""}</td>
      <td>${esc(v.published_by)}</td><td>${esc(fmtTime(v.published_at))}</td>
      <td>${v.in_force ? "" : `<button type="button" data-rollback="${esc(v.version)}">${esc(t("rollback"))}</button>`}</td>
    </tr>`).join("");
}
function showProblems(err) {
  const problems = (err.data && err.data.problems) || [];
  $("#rule-out").innerHTML = `<p class="err-msg">${esc(err.message)}</p>
    <ul class="problems">${problems.map((p) => `<li>${esc(p.file)}:${esc(p.line)}: ${esc(p.reason)}</li>`).join("")}</ul>`;
}
async function loadRules() {
  if (!state.rulesVersion) return;
  const data = await api(`rules/${state.rulesVersion}`);
  $("#rule-text").value = data.text;
  $("#rule-out").innerHTML = "";
}
$("#rule-load").addEventListener("click", loadRules);
$("#rule-check").addEventListener("click", async () => {
  try {
    const out = await api("rules/check", { method: "POST", body: { text: $("#rule-text").value } });
    if (out.ok) $("#rule-out").innerHTML = `<p class="ok-msg">${esc(t("checkOk", { v: out.version, n: out.rules }))}</p>`;
    else showProblems({ message: "", data: out });
  } catch (err) { showProblems(err); }
});
$("#rule-dry").addEventListener("click", async () => {
  try {
    const n = Number($("#dry-n").value) || 500;
    const out = await api("rules/dry-run", { method: "POST", body: { text: $("#rule-text").value, n } });
    const ex = out.examples.map((e) => `<tr><td>${esc(e.order_id)}</td>
        <td>${esc(e.before.lane)} → ${esc(e.after.lane)}</td>
        <td>${esc(e.before.packing_group)} → ${esc(e.after.packing_group)}</td>
        <td>${esc(reasonName(e.before.hold_reason) || "-")} → ${esc(reasonName(e.after.hold_reason) || "-")}</td></tr>`).join("");
    $("#rule-out").innerHTML = `<p class="dry-summary">${esc(t("dryResult", { n: out.orders, lane: out.changed.lane,
      group: out.changed.packing_group, hold: out.changed.hold, any: out.changed.any }))}</p>
      ${ex ? `<table class="grid"><thead><tr><th>${esc(t("examples"))}</th><th>${esc(t("lane"))}</th>
        <th>${esc(t("packing"))}</th><th>${esc(t("held"))}</th></tr></thead><tbody>${ex}</tbody></table>` : ""}`;
  } catch (err) { showProblems(err); }
});
$("#rule-publish").addEventListener("click", async () => {
  if (needToken() || !window.confirm(t("confirmPublish"))) return;
  try {
    const out = await api("rules/publish", { method: "POST", body: { text: $("#rule-text").value } });
    $("#rule-out").innerHTML = `<p class="ok-msg">${esc(t("published", { v: out.version }))}</p>`;
    await refresh();
  } catch (err) { showProblems(err); }
});
$("#versions").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-rollback]");
  if (!button || needToken()) return;
  const version = Number(button.dataset.rollback);
  if (!window.confirm(t("confirmRollback", { v: version }))) return;
  try {
    const out = await api("rules/rollback", { method: "POST", body: { version } });
    $("#rule-out").innerHTML = `<p class="ok-msg">${esc(t("published", { v: out.version }))}</p>`;
    await refresh();
  } catch (err) { showProblems(err); }
});

/* ---- refresh loop ---------------------------------------------------------------------- */
let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [lanes, chart, anomalies, rules, dead] = await Promise.all([
      api("lanes"), api("throughput?minutes=30"), api("anomalies"), api("rules"),
      api("dead-letters")]);
    renderLanes(lanes);
    renderChart(chart);
    renderAnomalies(anomalies);
    renderDeadLetters(dead);
    renderVersions(rules);
    if (!$("#rule-text").value && document.activeElement !== $("#rule-text")) await loadRules();
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

applyLang();
refresh();
setInterval(refresh, POLL_MS);
