/* What every part of the dashboard shares: the zh/en texts, the page state, formatting and
   the API client. An ES module; no build step. */

export const POLL_MS = 2000;

export const TEXT = {
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

export const state = {
  lang: localStorage.getItem("orderhub.lang") || "zh",
  query: "",
  lastOrders: null,
  rulesVersion: null,
};

export const $ = (sel) => document.querySelector(sel);
export const t = (key, vars) => {
  let s = TEXT[state.lang][key] ?? TEXT.zh[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
};
export const stageName = (s) => TEXT[state.lang].stages[s] || s;
export const reasonName = (r) => (r ? TEXT[state.lang].reasons[r] || r : "");

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
/* Business time is Asia/Shanghai wherever the browser is. */
export const SHANGHAI = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", month: "2-digit",
  day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
export function fmtTime(iso) {
  if (!iso) return "-";
  const part = {};
  for (const p of SHANGHAI.formatToParts(new Date(iso))) part[p.type] = p.value;
  return `${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}
export function fmtSecs(s) {
  if (s === null || s === undefined) return "-";
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${(s / 60).toFixed(1)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}
export const fen = (n) => (n / 100).toFixed(2);
export const keyPath = (o) => [o.channel, o.shop, o.order_id].map(encodeURIComponent).join("/");

/* ---- HTTP ---------------------------------------------------------------------------- */
/* ``token`` overrides the header's operator token (the rule approver's, typed apart). */
export function headers(json, token = $("#token").value.trim()) {
  const h = {};
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h["Content-Type"] = "application/json";
  return h;
}
export async function api(path, options = {}) {
  const json = options.body !== undefined;
  const init = { method: options.method || "GET",
    headers: options.token ? headers(json, options.token) : headers(json) };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  const res = await fetch(`api/${path}`, init);
  let data = null;
  if (res.status === 204) return null;
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
/* A part of the page adds its own texts and is told when the language changes. */
export function addText(texts) {
  for (const lang of Object.keys(TEXT)) Object.assign(TEXT[lang], texts[lang] || {});
}
const langHooks = [];
export const onLang = (hook) => langHooks.push(hook);
export function applyLang() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  $("#lang").textContent = state.lang === "zh" ? "English" : "中文";
  document.title = t("title");
  for (const hook of langHooks) hook();
}
