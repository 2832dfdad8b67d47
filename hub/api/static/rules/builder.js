/* The block builder: renders the model (blocks.js) with view.js, and edits it by mouse
   (drags, drag.js), pointer clicks and the keyboard. Every drag has a keyboard
   equivalent: a focused rule or condition moves with Alt+ArrowUp/Down, M (or the ⇄
   button) moves a condition or group to another group, Delete removes it; a palette block
   takes Enter and lands where the focus last was. Calls `onChange()` after every edit. */
import { esc, t } from "../core.js";
import {
  groups, insertNode, insertRule, isGroup, moveNode, moveRule, newRule, nodeAt, parseKey,
  pathKey, removeNode, renumber, shiftNode,
} from "./blocks.js";
import { enableDrag } from "./drag.js";
import { kindName } from "./i18n.js";
import {
  datalistsHtml, fallbackSchema, fieldInfo, isListOp, paletteHtml, ruleHtml, valueText,
} from "./view.js";

function defaultValue(f, op) {
  if (op === "exists") return true;
  if (isListOp(op)) return f.values ? [f.values[0]] : [];
  if (f.values) return f.values[0];
  return f.kind === "number" ? 0 : "";
}
function convertValue(old, f, op) {
  if (op === "exists") return typeof old === "boolean" ? old : true;
  if (typeof old === "boolean") return defaultValue(f, op);
  if (isListOp(op)) return Array.isArray(old) ? old : old === "" || old == null ? [] : [old];
  return Array.isArray(old) ? old[0] ?? "" : old;
}
const scalar = (f, raw) => {
  const n = Number(raw);
  return f.kind === "number" && String(raw).trim() !== "" && !Number.isNaN(n) ? n : raw;
};

export function createBuilder(root, { onChange }) {
  root.innerHTML = `<aside class="rb-palette"></aside>
    <div class="rb-main"><div class="rb-top"><label><span class="rb-hit-label"></span>
      <select class="rb-hit"></select></label></div><ol class="rb-rules"></ol></div>
    <div class="rb-datalists" hidden></div>
    <div class="rb-live sr-only" aria-live="polite" role="status"></div>`;
  const palette = root.querySelector(".rb-palette");
  const list = root.querySelector(".rb-rules");
  let schema = fallbackSchema;
  let model = { settings: {}, hit_policy: "first", rules: [] };
  const ui = { moving: null, flags: [], current: null };
  const ctx = () => ({ schema, model, ui, groupsOf: groups });

  const announce = (text) => { root.querySelector(".rb-live").textContent = text; };
  /* Where the focus is, as a selector that finds the same control after a re-render. */
  function focusLocator() {
    const el = document.activeElement;
    if (!el || !list.contains(el)) return null;
    const holder = el.closest("[data-path]");
    const rule = el.closest(".rb-rule");
    const base = holder ? `[data-path="${holder.dataset.path}"]` : `.rb-rule[data-rule="${rule.dataset.rule}"]`;
    const action = el.closest(".rb-action");
    const inner = el === holder || el === rule ? ""
      : ` ${action ? `.rb-action[data-action="${action.dataset.action}"] ` : ""}.${el.classList[0]}`;
    return { selector: base + inner, start: el.selectionStart, end: el.selectionEnd };
  }
  function render() {
    const where = focusLocator();
    renderAll();
    if (!where) return;
    const el = list.querySelector(where.selector);
    if (!el) return;
    el.focus();
    if (typeof where.start === "number" && el.setSelectionRange) {
      try { el.setSelectionRange(where.start, where.end); } catch (_) { /* not a text input */ }
    }
  }
  function renderAll() {
    palette.innerHTML = paletteHtml(schema);
    root.querySelector(".rb-datalists").innerHTML = datalistsHtml(schema, model);
    list.setAttribute("aria-label", t("ruleBuilder"));
    root.querySelector(".rb-hit-label").textContent = t("hitPolicy");
    root.querySelector(".rb-hit").innerHTML = schema.hit_policies.map((h) => `<option value="${esc(h)}"${
      h === model.hit_policy ? " selected" : ""}>${esc(h)}</option>`).join("");
    list.innerHTML = model.rules.map((r, i) => ruleHtml(ctx(), r, i)).join("");
  }
  function changed() {
    ui.flags = [];
    onChange();
  }
  function focus(selector) {
    const el = list.querySelector(selector);
    if (el) el.focus();
  }
  const focusPath = (p, inner = "") => focus(`[data-path="${pathKey(p)}"]${inner ? ` ${inner}` : ""}`);
  const ruleOf = (el) => Number(el.closest(".rb-rule").dataset.rule);
  const pathOf = (el) => parseKey(el.closest("[data-path]").dataset.path);
  const groupName = (p) => `${model.rules[p.rule].id} › ${kindName(nodeAt(model, p).kind)}`;

  function newLeaf() {
    const f = schema.fields[0] || fieldInfo(schema, "channel");
    const op = f.operators[0];
    return { field: f.name, op, value: defaultValue(f, op) };
  }
  function addAction(i, name) {
    const a = schema.actions.find((x) => x.name === name) || { name, values: null };
    const then = model.rules[i].then;
    if (!(name in then)) then[name] = a.values ? a.values[0] : "";
    render();
    changed();
    focus(`.rb-rule[data-rule="${i}"] .rb-action[data-action="${name}"] .rb-action-value`);
  }
  function moveRuleTo(from, to) {
    const at = moveRule(model, from, to);
    render();
    changed();
    focus(`.rb-rule[data-rule="${at}"]`);
    const r = model.rules[at];
    announce(t("movedRule", { id: r.id, n: at + 1, p: r.precedence }));
  }
  function moveNodeTo(from, group, index) {
    const moved = moveNode(model, from, group, index);
    if (!moved) return;
    ui.moving = null;
    render();
    changed();
    focusPath(moved);
    announce(t("movedCond", { g: groupName({ rule: moved.rule, at: moved.at.slice(0, -1) }) }));
  }
  function addPiece(info, group, index, ruleIndex) {
    if (info.piece === "rule") {
      const at = insertRule(model, index ?? model.rules.length, newRule(model));
      render();
      changed();
      focus(`.rb-rule[data-rule="${at}"] .rb-id`);
    } else if (info.piece === "action") {
      if (ruleIndex !== null && ruleIndex !== undefined) addAction(ruleIndex, info.action);
    } else if (group) {
      const node = info.piece === "cond" ? newLeaf() : { kind: info.kind, items: [] };
      const p = insertNode(model, group, index ?? nodeAt(model, group).items.length, node);
      render();
      changed();
      focusPath(p, info.piece === "cond" ? ".rb-field" : "");
      announce(t("movedCond", { g: groupName(group) }));
    }
  }

  /* ---- drags --------------------------------------------------------------------------- */
  enableDrag(root, {
    start(handle) {
      const kind = handle.dataset.drag;
      if (kind === "rule") {
        const i = ruleOf(handle);
        return { type: "rule", from: i, label: model.rules[i].id };
      }
      if (kind === "node") {
        const p = pathOf(handle);
        const node = nodeAt(model, p);
        return { type: "node", from: p, label: isGroup(node) ? kindName(node.kind) : valueText(node.value) };
      }
      const piece = handle.dataset.piece;
      return { type: piece === "rule" ? "rule" : piece === "action" ? "action" : "node",
        piece, kind: handle.dataset.kind, action: handle.dataset.action, from: null,
        label: handle.textContent.trim() };
    },
    target(x, y, info) {
      const el = document.elementFromPoint(x, y);
      if (!el || !list.contains(el)) {
        return info.type === "rule" && el && list.parentElement.contains(el) && !model.rules.length
          ? { el: list, where: "inside" } : null;
      }
      if (info.type === "rule") {
        const li = el.closest(".rb-rule");
        const r = li.getBoundingClientRect();
        return { el: li, where: y < r.top + r.height / 2 ? "before" : "after" };
      }
      if (info.type === "action") return { el: el.closest(".rb-rule").querySelector(".rb-then"), where: "inside" };
      const hit = el.closest(".rb-cond, .rb-group");
      if (!hit) return null;
      const p = parseKey(hit.dataset.path);
      if (info.from && info.from.rule === p.rule && info.from.at.length <= p.at.length
          && info.from.at.every((v, i) => p.at[i] === v)) return null;  // into itself
      if (hit.matches(".rb-cond")) {
        const r = hit.getBoundingClientRect();
        return { el: hit, where: y < r.top + r.height / 2 ? "before" : "after" };
      }
      return { el: hit, where: "inside" };
    },
    drop(info, target) {
      if (info.type === "rule") {
        let index = target.el.matches(".rb-rule")
          ? Number(target.el.dataset.rule) + (target.where === "after" ? 1 : 0) : model.rules.length;
        if (info.from === null) { addPiece(info, null, index); return; }
        if (index > info.from) index -= 1;
        moveRuleTo(info.from, index);
        return;
      }
      if (info.type === "action") { addPiece(info, null, null, ruleOf(target.el)); return; }
      const p = parseKey(target.el.dataset.path);
      let group = p;
      let index = null;
      if (target.el.matches(".rb-cond")) {
        group = { rule: p.rule, at: p.at.slice(0, -1) };
        index = p.at[p.at.length - 1] + (target.where === "after" ? 1 : 0);
      }
      if (index === null) index = nodeAt(model, group).items.length;
      if (info.from) moveNodeTo(info.from, group, index);
      else addPiece(info, group, index);
    },
  });

  /* ---- clicks, edits, keys --------------------------------------------------------------- */
  root.addEventListener("focusin", (ev) => {
    const holder = ev.target.closest("[data-path]");
    const rule = ev.target.closest(".rb-rule");
    if (!rule) return;
    let group = holder ? parseKey(holder.dataset.path) : { rule: ruleOf(rule), at: [] };
    if (holder && !isGroup(nodeAt(model, group))) group = { rule: group.rule, at: group.at.slice(0, -1) };
    ui.current = { rule: ruleOf(rule), group };
  });
  palette.addEventListener("click", (ev) => {
    const piece = ev.target.closest(".rb-piece");
    if (!piece) return;
    const info = { piece: piece.dataset.piece, kind: piece.dataset.kind, action: piece.dataset.action };
    const cur = ui.current && ui.current.rule < model.rules.length ? ui.current : null;
    if (info.piece === "rule") addPiece(info, null, null);
    else if (info.piece === "action") addPiece(info, null, null, cur ? cur.rule : model.rules.length - 1);
    else if (model.rules.length) addPiece(info, cur ? cur.group : { rule: 0, at: [] }, null);
  });
  list.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    const i = ruleOf(b);
    if (b.matches(".rb-up, .rb-down")) { moveRuleTo(i, i + (b.matches(".rb-up") ? -1 : 1)); return; }
    if (b.matches(".rb-del-rule")) {
      model.rules.splice(i, 1);
      renumber(model);
    } else if (b.matches(".rb-add-action")) {
      const free = schema.actions.find((a) => !(a.name in model.rules[i].then));
      if (free) addAction(i, free.name);
      return;
    } else if (b.matches(".rb-del-action")) {
      delete model.rules[i].then[b.closest(".rb-action").dataset.action];
    } else if (b.matches(".rb-add-cond, .rb-add-group")) {
      addPiece({ piece: b.matches(".rb-add-cond") ? "cond" : "group", kind: "any" }, pathOf(b), null);
      return;
    } else if (b.matches(".rb-del")) {
      removeNode(model, pathOf(b));
    } else if (b.matches(".rb-move")) {
      ui.moving = pathKey(pathOf(b));
      render();
      focus(".rb-move-select");
      return;
    } else return;
    render();
    changed();
  });
  list.addEventListener("input", (ev) => {
    const el = ev.target;
    if (el.matches(".rb-id")) model.rules[ruleOf(el)].id = el.value.trim();
    else if (el.matches("input.rb-value")) {
      const cond = nodeAt(model, pathOf(el));
      const f = fieldInfo(schema, cond.field);
      cond.value = el.dataset.as === "list"
        ? el.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean).map((s) => scalar(f, s))
        : scalar(f, el.value);
    } else if (el.matches("input.rb-action-value")) {
      model.rules[ruleOf(el)].then[el.closest(".rb-action").dataset.action] = el.value.trim();
    } else return;
    changed();
  });
  list.addEventListener("change", (ev) => {
    const el = ev.target;
    if (!el.matches("select")) return;
    const i = ruleOf(el);
    let refocus = null;
    if (el.matches(".rb-move-select")) {
      if (el.value) {
        const from = parseKey(ui.moving);
        const group = parseKey(el.value);
        moveNodeTo(from, group, nodeAt(model, group).items.length);
      }
      return;
    }
    if (el.matches(".rb-field, .rb-op, select.rb-value")) {
      const p = pathOf(el);
      const cond = nodeAt(model, p);
      if (el.matches(".rb-field")) {
        cond.field = el.value;
        const f = fieldInfo(schema, cond.field);
        if (!f.operators.includes(cond.op)) cond.op = f.operators[0];
        cond.value = defaultValue(f, cond.op);
        refocus = `[data-path="${pathKey(p)}"] .rb-field`;
      } else if (el.matches(".rb-op")) {
        cond.op = el.value;
        cond.value = convertValue(cond.value, fieldInfo(schema, cond.field), cond.op);
        refocus = `[data-path="${pathKey(p)}"] .rb-op`;
      } else {
        const f = fieldInfo(schema, cond.field);
        cond.value = el.dataset.as === "bool" ? el.value === "true"
          : el.dataset.as === "list" ? [...el.selectedOptions].map((o) => scalar(f, o.value))
            : scalar(f, el.value);
        changed();
        return;
      }
    } else if (el.matches(".rb-kind")) {
      nodeAt(model, pathOf(el)).kind = el.value;
    } else if (el.matches(".rb-action-name")) {
      const then = model.rules[i].then;
      const old = el.closest(".rb-action").dataset.action;
      if (!(el.value in then)) {
        const a = schema.actions.find((x) => x.name === el.value);
        then[el.value] = a && a.values ? a.values[0] : then[old];
        delete then[old];
      }
    } else if (el.matches("select.rb-action-value")) {
      model.rules[i].then[el.closest(".rb-action").dataset.action] = el.value;
      changed();
      return;
    } else return;
    render();
    changed();
    if (refocus) focus(refocus);
  });
  list.addEventListener("keydown", (ev) => {
    const el = ev.target;
    if (el.matches(".rb-move-select") && ev.key === "Escape") {
      const back = ui.moving;
      ui.moving = null;
      render();
      if (back) focusPath(parseKey(back));
      return;
    }
    const vertical = ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown");
    const delta = ev.key === "ArrowUp" ? -1 : 1;
    if (el.matches(".rb-rule") && vertical) {
      ev.preventDefault();
      moveRuleTo(ruleOf(el), ruleOf(el) + delta);
    } else if (el.matches(".rb-cond, .rb-group[tabindex]")) {
      const p = pathOf(el);
      if (vertical) {
        ev.preventDefault();
        const moved = shiftNode(model, p, delta);
        if (!moved) return;
        render();
        changed();
        focusPath(moved);
        announce(t("movedCond", { g: groupName({ rule: p.rule, at: p.at.slice(0, -1) }) }));
      } else if (ev.key === "m" || ev.key === "M") {
        ev.preventDefault();
        ui.moving = pathKey(p);
        render();
        focus(".rb-move-select");
      } else if (ev.key === "Delete") {
        ev.preventDefault();
        removeNode(model, p);
        render();
        changed();
        focus(`.rb-rule[data-rule="${p.rule}"]`);
      }
    }
  });
  root.querySelector(".rb-hit").addEventListener("change", (ev) => {
    model.hit_policy = ev.target.value;
    changed();
  });
  root.addEventListener("keydown", (ev) => {
    if (ev.target.matches(".rb-piece") && (ev.key === " ")) { ev.preventDefault(); ev.target.click(); }
  });

  return {
    get model() { return model; },
    setModel(next) { model = next; ui.moving = null; ui.flags = []; render(); },
    setSchema(next) { schema = { ...fallbackSchema, ...next }; render(); },
    get schema() { return schema; },
    render,
    /* flags: [{rule, key (a condition's path key or null), level: "error"|"warn", line, reason}] */
    flag(flags) {
      ui.flags = flags;
      render();
      const first = list.querySelector(".rb-flag-error, .rb-flag-warn");
      if (first) first.scrollIntoView({ block: "nearest" });
    },
  };
}
