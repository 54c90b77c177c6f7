// The portal's only script: "copy" buttons for API examples and client credentials.
// Everything else works without JavaScript. Loaded from /static, so the
// Content-Security-Policy can forbid inline scripts altogether.
(function () {
  "use strict";
  function copyFrom(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "✓";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy-button");
    if (button) { copyFrom(button); }
  });
})();
