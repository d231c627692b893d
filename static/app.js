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
})();
