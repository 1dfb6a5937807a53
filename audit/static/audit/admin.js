// Copy buttons beside shortened hashes in the regulator's admin (no inline script: CSP).
(function () {
  "use strict";
  function copied(button) {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-done");
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }
  function fallback(text, button) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "audit-offscreen";
    document.body.appendChild(area);
    area.select();
    try {
      if (document.execCommand("copy")) { copied(button); }
    } finally {
      document.body.removeChild(area);
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.audit-copy") : null;
    if (!button) { return; }
    event.preventDefault();
    var text = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button); },
        function () { fallback(text, button); }
      );
    } else {
      fallback(text, button);
    }
  });
})();
