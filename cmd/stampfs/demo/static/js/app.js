// stampfs demo: this script runs only if the browser accepted its
// Subresource Integrity hash, so seeing its message proves SRI passed.
(function () {
  document.body.dataset.stampfs = "ok";
  var status = document.getElementById("script-status");
  if (status) {
    status.textContent = "\u2713 js/app.js ran: its integrity hash matched, so did the stylesheet's.";
  }
})();
