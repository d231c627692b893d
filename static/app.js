// reviewapp's own script: report failed htmx requests in Chinese instead of failing silently.
(function () {
  function toast(text) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { el.hidden = true; }, 8000);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    var text = status === 403 ? "操作被拒绝：登录已过期或页面已过期，请刷新页面后重试。"
      : status === 409 ? "内容已在别处被修改，请刷新后查看最新内容。"
      : status === 413 ? "提交的内容过大。"
      : "操作失败（错误代码 " + status + "），请稍后重试。";
    toast(text);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("无法连接服务器，请检查网络后重试。您的输入尚未保存。");
  });
  // A header checkbox with data-check-all="NAME" ticks every checkbox named NAME in its form.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (!box.matches || !box.matches("input[data-check-all]")) return;
    var scope = box.form || document;
    scope.querySelectorAll('input[type=checkbox][name="' + box.dataset.checkAll + '"]').forEach(function (el) { el.checked = box.checked; });
  });
  window.reviewappToast = toast;

  // Behaviour declared in markup, because the Content-Security-Policy allows no inline script:
  // data-print prints the page, data-confirm="…" asks before a click (a button or link) or a submit (a form)
  // goes ahead, data-history-back and data-close-window are the "back" and "close preview" links.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-print], [data-confirm], [data-history-back], [data-close-window]");
    if (!el || el.tagName === "FORM") return;
    if (el.hasAttribute("data-print")) { evt.preventDefault(); window.print(); return; }
    if (el.hasAttribute("data-history-back")) { evt.preventDefault(); history.back(); return; }
    if (el.hasAttribute("data-close-window")) { evt.preventDefault(); window.close(); return; }
    if (!window.confirm(el.getAttribute("data-confirm"))) { evt.preventDefault(); evt.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches("form[data-confirm]")) return;
    // data-confirm-unless="FIELD=VALUE": no question when the form's FIELD has that value.
    var unless = (form.getAttribute("data-confirm-unless") || "").split("=");
    if (unless.length === 2 && form.elements[unless[0]] && form.elements[unless[0]].value === unless[1]) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);
})();

// Score sheet (专家评分表): per-field save state, the justification prompt, keyboard safety, the submit dialog.
(function () {
  var dirty = new Set();
  function sheetField(elt) {
    return elt && elt.name && elt.closest && elt.closest("[data-autosave]") ? elt : null;
  }
  function state(elt) { return document.getElementById("st-" + elt.name); }
  function show(elt, cls, text) {
    var el = state(elt);
    if (!el) return;
    var span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    el.replaceChildren(span);
  }
  function number(text) {
    var t = (text || "").replace(/[\uff10-\uff19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xfee0); })
      .replace(/[\uff0e\u3002]/g, ".").trim();
    return t === "" ? NaN : Number(t);
  }
  // Show the justification box as soon as a 0, a full score or a failed gate is entered; the server confirms.
  function updateNeed(elt) {
    var item = elt.dataset && elt.dataset.item;
    var flag = item && document.getElementById("need-" + item);
    if (!flag) return;
    var need = elt.type === "radio" ? (elt.checked && elt.value === "fail")
      : (function (v) { return v === 0 || v === Number(elt.dataset.max); })(number(elt.value));
    flag.dataset.need = need ? "1" : "0";
  }
  document.addEventListener("input", function (evt) {
    var elt = sheetField(evt.target);
    if (!elt) return;
    dirty.add(elt);
    updateNeed(elt);
    var counter = document.querySelector('[data-count-for="' + elt.id + '"]');
    if (counter) counter.textContent = "已输入 " + elt.value.trim().length + " 字";
  });
  document.addEventListener("change", function (evt) {
    var elt = sheetField(evt.target);
    if (elt) updateNeed(elt);
  });
  // Enter in a score box saves that field and never submits anything.
  document.addEventListener("keydown", function (evt) {
    var elt = sheetField(evt.target);
    if (elt && evt.key === "Enter" && elt.tagName === "INPUT") {
      evt.preventDefault();
      elt.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  // The sheet's one save state, in the sticky bar beside the submit button (seen without scrolling to a field).
  function overall(cls, text) {
    var el = document.getElementById("sheet-saved");
    if (!el) return;
    el.className = "sheet-saved " + cls;
    el.textContent = text;
  }
  function summarise() {
    var failed = document.querySelectorAll("[data-autosave] .save-state .failed").length;
    var pending = Array.from(dirty).filter(function (elt) { return document.body.contains(elt); }).length;
    if (failed) overall("failed", "有 " + failed + " 项未保存，请查看标红的项");
    else if (pending) overall("pending", "保存中…");
    else overall("ok", "已全部保存 " + new Date().toTimeString().slice(0, 8));
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = sheetField(evt.detail.elt);
    if (!elt) return;
    elt._sent = elt.value;
    show(elt, "pending", "保存中…");
    overall("pending", "保存中…");
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = sheetField(evt.detail.elt);
    if (!elt) return;
    if (!evt.detail.successful) {
      show(elt, "failed", evt.detail.xhr && evt.detail.xhr.status
        ? "保存失败：服务器未能保存（错误代码 " + evt.detail.xhr.status + "），请刷新页面后重试。"
        : "保存失败：无法连接服务器，网络恢复后将自动重试。");
      elt._failed = true;
      overall("failed", "保存失败，网络恢复后将自动重试");
      return;
    }
    var st = state(elt);
    var failed = !!(st && st.querySelector(".failed"));
    elt._failed = false;
    if (elt.type !== "radio") elt.setAttribute("aria-invalid", failed ? "true" : "false");
    if (elt.value === elt._sent && !failed) dirty.delete(elt);
    summarise();
  });
  window.addEventListener("online", function () {
    document.querySelectorAll("[data-autosave] [name]").forEach(function (elt) {
      if (elt._failed) elt.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
  window.addEventListener("beforeunload", function (evt) {
    var pending = Array.from(dirty).some(function (elt) { return document.body.contains(elt); });
    if (pending) { evt.preventDefault(); evt.returnValue = ""; }
  });
  // Problems listed before submit link to their field: move the keyboard focus there too.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[data-focus]");
    if (link) {
      var target = document.getElementById(link.dataset.focus);
      if (target) {
        evt.preventDefault();
        var focusable = target.matches("input, textarea, select") ? target : target.querySelector("input, textarea, select");
        target.scrollIntoView({ block: "center" });
        (focusable || target).focus();
      }
    }
    var closer = evt.target.closest && evt.target.closest("[data-close-dialog]");
    if (closer) { var dlg = closer.closest("dialog"); if (dlg) { dlg.close(); dlg.remove(); } }
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.matches && form.matches("form[data-once]")) {
      if (form._sent) { evt.preventDefault(); return; }
      form._sent = true;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }
  });
  document.addEventListener("htmx:load", function (evt) {
    var root = evt.detail.elt;
    if (!root.querySelectorAll) return;
    var found = root.matches("dialog[data-show-modal]") ? [root] : Array.from(root.querySelectorAll("dialog[data-show-modal]"));
    found.forEach(function (dlg) { if (!dlg.open) dlg.showModal(); });
    var focus = root.matches("[data-focus-me]") ? root : root.querySelector("[data-focus-me]");
    if (focus) focus.focus();
  });
})();

// Panels marked data-collapse-narrow start closed on a tablet or phone, where they would push the form down.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.matchMedia("(max-width: 1100px)").matches) return;
  document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
});
