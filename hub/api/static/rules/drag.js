/* Drags made of plain mouse events (mousedown on a [data-drag] handle, mousemove,
   mouseup), so a real mouse and CDP's Input.dispatchMouseEvent drive the same code. A drag
   starts after the pointer moved 4 px; a marker shows where the block would land.

   enableDrag(root, {start(handle) -> info|null, target(x, y, info) -> {el, where}|null,
                     drop(info, target)})
   `where` is "before", "after" or "inside" the element `el`. */

const THRESHOLD_PX = 4;

export function enableDrag(root, hooks) {
  let drag = null;
  let ghost = null;
  const marker = document.createElement("div");
  marker.className = "rb-marker";
  marker.hidden = true;
  document.body.append(marker);

  function showMarker(target) {
    if (!target) { marker.hidden = true; return; }
    const r = target.el.getBoundingClientRect();
    marker.hidden = false;
    marker.classList.toggle("inside", target.where === "inside");
    if (target.where === "inside") {
      Object.assign(marker.style, { left: `${r.left}px`, top: `${r.top}px`,
        width: `${r.width}px`, height: `${r.height}px` });
    } else {
      const y = target.where === "before" ? r.top - 2 : r.bottom;
      Object.assign(marker.style, { left: `${r.left}px`, top: `${y}px`,
        width: `${r.width}px`, height: "3px" });
    }
  }

  function cleanup() {
    document.removeEventListener("mousemove", onMove);
    document.removeEventListener("mouseup", onUp);
    ghost?.remove();
    ghost = null;
    marker.hidden = true;
    drag?.handle.closest("[data-path], .rb-rule, .rb-piece")?.classList.remove("rb-dragged");
    document.body.classList.remove("rb-dragging");
    drag = null;
  }

  function onMove(ev) {
    if (!drag) return;
    if (!drag.moving) {
      if (Math.hypot(ev.clientX - drag.x0, ev.clientY - drag.y0) < THRESHOLD_PX) return;
      drag.moving = true;
      ghost = document.createElement("div");
      ghost.className = "rb-ghost";
      ghost.textContent = drag.info.label;
      document.body.append(ghost);
      document.body.classList.add("rb-dragging");
      drag.handle.closest("[data-path], .rb-rule, .rb-piece")?.classList.add("rb-dragged");
    }
    ghost.style.transform = `translate(${ev.clientX + 10}px, ${ev.clientY + 6}px)`;
    drag.target = hooks.target(ev.clientX, ev.clientY, drag.info);
    showMarker(drag.target);
    ev.preventDefault();
  }

  function onUp(ev) {
    const done = drag;
    if (done?.moving) {
      const target = hooks.target(ev.clientX, ev.clientY, done.info) || done.target;
      cleanup();
      if (target) hooks.drop(done.info, target);
      return;
    }
    cleanup();
  }

  root.addEventListener("mousedown", (ev) => {
    if (ev.button !== 0 || drag) return;
    const handle = ev.target.closest("[data-drag]");
    if (!handle || !root.contains(handle)) return;
    const info = hooks.start(handle);
    if (!info) return;
    if (!handle.matches("button")) ev.preventDefault();  // no text selection while dragging
    drag = { info, handle, x0: ev.clientX, y0: ev.clientY, moving: false, target: null };
    document.addEventListener("mousemove", onMove);
    document.addEventListener("mouseup", onUp);
  });
  // a click that ends a real drag is not a click on the palette
  root.addEventListener("click", (ev) => {
    if (root.dataset.justDragged) { ev.stopPropagation(); ev.preventDefault(); }
  }, true);
  const origDrop = hooks.drop;
  hooks.drop = (info, target) => {
    root.dataset.justDragged = "1";
    setTimeout(() => { delete root.dataset.justDragged; }, 0);
    origDrop(info, target);
  };
}
