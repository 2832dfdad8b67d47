/* The builder's HTML: the palette and the rules as blocks. String building only; the
   controller (builder.js) wires events. Every select offers only what the schema from
   GET /rules/builder/schema allows, so the builder cannot offer what the checker refuses. */
import { esc, t } from "../core.js";
import { isGroup, pathKey } from "./blocks.js";
import { actionName, fieldName, kindName, opName, valueName } from "./i18n.js";

const LIST_OPS = new Set(["in", "not_in"]);
export const isListOp = (op) => LIST_OPS.has(op);

export const fallbackSchema = {
  fields: [], actions: [], combinators: ["all", "any", "not"], hit_policies: ["first", "collect"],
};

export function fieldInfo(schema, name) {
  return schema.fields.find((f) => f.name === name)
    || { name, kind: "text", operators: ["eq", "ne", "in", "not_in", "contains", "exists"],
      values: null, suggestions: [], unknown: true };
}
export const fieldList = (schema, name) => `rb-dl-f-${schema.fields.findIndex((f) => f.name === name)}`;
export const actionList = (name) => `rb-dl-a-${name}`;

const option = (value, label, selected) =>
  `<option value="${esc(value)}"${selected ? " selected" : ""}>${esc(label)}</option>`;

export function valueText(value) {
  if (Array.isArray(value)) return value.map(valueName).join(", ");
  return valueName(value);
}

/* ---- palette --------------------------------------------------------------------------- */
export function paletteHtml(schema) {
  const piece = (attrs, label, cls = "") => `<button type="button" class="rb-piece ${cls}"
      data-drag="piece" ${attrs} aria-label="${esc(t("pieceLabel", { n: label }))}">${esc(label)}</button>`;
  return `<h3>${esc(t("palette"))}</h3>
    ${piece('data-piece="rule"', t("newRule"), "rule")}
    ${piece('data-piece="cond"', t("condition"), "cond")}
    ${schema.combinators.map((k) => piece(`data-piece="group" data-kind="${esc(k)}"`, kindName(k), "group")).join("")}
    ${schema.actions.map((a) => piece(`data-piece="action" data-action="${esc(a.name)}"`,
    actionName(a.name), "action")).join("")}`;
}

export function datalistsHtml(schema, model) {
  const lists = schema.fields.map((f, i) => `<datalist id="rb-dl-f-${i}">${
    (f.suggestions || []).map((s) => `<option value="${esc(s)}">${esc(valueName(s))}</option>`).join("")}</datalist>`);
  for (const a of schema.actions) {
    const seen = new Set([...(a.suggestions || []),
      ...model.rules.map((r) => r.then[a.name]).filter((v) => typeof v === "string" && v)]);
    lists.push(`<datalist id="${actionList(a.name)}">${[...seen].map((s) =>
      `<option value="${esc(s)}"></option>`).join("")}</datalist>`);
  }
  return lists.join("");
}

/* ---- rules ----------------------------------------------------------------------------- */
function valueEditor(schema, cond, f) {
  const label = `aria-label="${esc(t("valueHint"))}"`;
  if (cond.op === "exists") {
    return `<select class="rb-value" data-as="bool" ${label}>${[true, false].map((v) =>
      option(String(v), valueName(v), cond.value === v)).join("")}</select>`;
  }
  const list = isListOp(cond.op);
  if (f.values) {
    const chosen = new Set(list ? (cond.value || []).map(String) : [String(cond.value)]);
    const values = [...f.values];
    for (const v of chosen) if (v !== "" && !values.map(String).includes(v)) values.push(v);
    return `<select class="rb-value" ${list ? 'multiple size="3" data-as="list"' : ""} ${label}>${
      values.map((v) => option(v, valueName(v), chosen.has(String(v)))).join("")}</select>`;
  }
  const shown = list ? (cond.value || []).join(", ") : (cond.value ?? "");
  const type = f.kind === "number" && !list ? "number" : "text";
  return `<input class="rb-value" type="${type}" ${list ? 'data-as="list"' : ""}
    list="${esc(fieldList(schema, f.name))}" value="${esc(shown)}" size="16"
    placeholder="${esc(t(list ? "listHint" : "valueHint"))}" ${label}>`;
}

function moveControl(ui, model, p, groupsOf) {
  if (ui.moving !== pathKey(p)) {
    return `<button type="button" class="rb-move" aria-label="${esc(t("moveToGroup"))}"
      title="${esc(t("moveToGroup"))}">⇄</button>`;
  }
  const choices = groupsOf(model).filter((g) => !(g.path.rule === p.rule
    && g.path.at.length >= p.at.length && p.at.every((v, i) => g.path.at[i] === v)));
  return `<select class="rb-move-select" aria-label="${esc(t("moveToGroupHint"))}">
    <option value="">${esc(t("moveToGroupHint"))}</option>
    ${choices.map((g) => option(pathKey(g.path), `${model.rules[g.path.rule].id} › ${
    "· ".repeat(g.depth)}${kindName(g.kind)}${g.path.at.length ? ` (${g.path.at.join(".")})` : ""}`,
    false)).join("")}</select>`;
}

function flagsAt(ui, key) {
  const mine = ui.flags.filter((f) => f.key === key);
  if (!mine.length) return "";
  return mine.some((f) => f.level === "error") ? " rb-flag-error" : " rb-flag-warn";
}

function condHtml(ctx, cond, p) {
  const { schema, model, ui, groupsOf } = ctx;
  const f = fieldInfo(schema, cond.field);
  const fields = f.unknown ? [{ name: cond.field }, ...schema.fields] : schema.fields;
  return `<div class="rb-cond${flagsAt(ui, pathKey(p))}" data-path="${pathKey(p)}" tabindex="0"
      aria-label="${esc(t("condLabel", { f: fieldName(cond.field), o: opName(cond.op), v: valueText(cond.value) }))}">
    <span class="rb-handle" data-drag="node" aria-hidden="true">⠿</span>
    <select class="rb-field" aria-label="${esc(fieldName(cond.field))}">${fields.map((x) =>
    option(x.name, fieldName(x.name), x.name === cond.field)).join("")}</select>
    <select class="rb-op" aria-label="${esc(opName(cond.op))}">${f.operators.map((o) =>
    option(o, opName(o), o === cond.op)).join("")}</select>
    ${valueEditor(schema, cond, f)}
    ${moveControl(ui, model, p, groupsOf)}
    <button type="button" class="rb-del" aria-label="${esc(t("remove"))}" title="${esc(t("remove"))}">×</button>
  </div>`;
}

function groupHtml(ctx, group, p) {
  const { schema, model, ui, groupsOf } = ctx;
  const root = !p.at.length;
  const items = group.items.map((node, i) => {
    const child = { rule: p.rule, at: [...p.at, i] };
    return isGroup(node) ? groupHtml(ctx, node, child) : condHtml(ctx, node, child);
  }).join("");
  const empty = `<div class="rb-empty muted">${esc(t(root ? "always" : "dropHere"))}</div>`;
  return `<div class="rb-group kind-${esc(group.kind)}${flagsAt(ui, pathKey(p))}" data-path="${pathKey(p)}"
      role="group" aria-label="${esc(t("groupLabel", { k: kindName(group.kind) }))}"${root ? "" : ' tabindex="0"'}>
    <div class="rb-group-head">
      ${root ? "" : '<span class="rb-handle" data-drag="node" aria-hidden="true">⠿</span>'}
      <select class="rb-kind" aria-label="${esc(kindName(group.kind))}">${schema.combinators.map((k) =>
    option(k, kindName(k), k === group.kind)).join("")}</select>
      <button type="button" class="rb-add-cond">${esc(t("addCond"))}</button>
      <button type="button" class="rb-add-group">${esc(t("addGroup"))}</button>
      ${root ? "" : `${moveControl(ui, model, p, groupsOf)}
        <button type="button" class="rb-del" aria-label="${esc(t("remove"))}">×</button>`}
    </div>
    <div class="rb-items">${items || empty}</div>
  </div>`;
}

function actionHtml(schema, name, value) {
  const a = schema.actions.find((x) => x.name === name) || { name, values: null };
  const names = schema.actions.some((x) => x.name === name) ? schema.actions : [a, ...schema.actions];
  const editor = a.values
    ? `<select class="rb-action-value" aria-label="${esc(actionName(name))}">${
      [...new Set([...a.values, ...(value ? [value] : [])])].map((v) =>
        option(v, valueName(v), v === value)).join("")}</select>`
    : `<input class="rb-action-value" list="${esc(actionList(name))}" value="${esc(value ?? "")}"
        size="18" aria-label="${esc(actionName(name))}">`;
  return `<div class="rb-action" data-action="${esc(name)}">
    <select class="rb-action-name" aria-label="${esc(actionName(name))}">${names.map((x) =>
    option(x.name, actionName(x.name), x.name === name)).join("")}</select> =
    ${editor}
    <button type="button" class="rb-del-action" aria-label="${esc(t("remove"))}">×</button></div>`;
}

export function ruleHtml(ctx, rule, i) {
  const { schema, ui } = ctx;
  const flags = ui.flags.filter((f) => f.rule === i);
  const level = flags.some((f) => f.level === "error") ? " rb-flag-error"
    : flags.length ? " rb-flag-warn" : "";
  return `<li class="rb-rule${level}" data-rule="${i}" tabindex="0"
      aria-label="${esc(t("ruleLabel", { id: rule.id, p: rule.precedence }))}">
    <div class="rb-rule-head">
      <span class="rb-handle" data-drag="rule" aria-hidden="true">⠿</span>
      <input class="rb-id" value="${esc(rule.id)}" size="24" aria-label="${esc(t("ruleId"))}">
      <span class="rb-prec" title="${esc(t("precedence"))}">#${esc(rule.precedence)}</span>
      <button type="button" class="rb-up" aria-label="${esc(t("moveUp"))}" title="${esc(t("moveUp"))}">↑</button>
      <button type="button" class="rb-down" aria-label="${esc(t("moveDown"))}" title="${esc(t("moveDown"))}">↓</button>
      <button type="button" class="rb-del-rule danger">${esc(t("removeRule"))}</button>
    </div>
    <div class="rb-when"><span class="rb-kw">${esc(t("when"))}</span>${groupHtml(ctx, rule.when, { rule: i, at: [] })}</div>
    <div class="rb-then"><span class="rb-kw">${esc(t("then"))}</span>
      ${Object.entries(rule.then).map(([k, v]) => actionHtml(schema, k, v)).join("")}
      <button type="button" class="rb-add-action">${esc(t("addAction"))}</button></div>
    ${flags.length ? `<ul class="rb-flags">${flags.map((f) =>
    `<li class="${f.level === "error" ? "err-msg" : "warn-msg"}">${
      f.line ? `${esc(t("lineN", { n: f.line }))}: ` : ""}${esc(f.reason)}</li>`).join("")}</ul>` : ""}
  </li>`;
}
