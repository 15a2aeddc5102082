// stampfs demo: this script runs only if the browser accepted its
// Subresource Integrity hash, so seeing its message proves SRI passed for
// the script. The stylesheet sets --stampfs-stylesheet on :root; reading it
// back proves the browser accepted the stylesheet's hash too.
(function () {
  document.body.dataset.stampfs = "ok";
  var css = getComputedStyle(document.documentElement)
    .getPropertyValue("--stampfs-stylesheet").trim() === "ok";
  document.body.dataset.stylesheet = css ? "ok" : "missing";
  var status = document.getElementById("script-status");
  if (status) {
    status.textContent = css
      ? "\u2713 js/app.js ran and site.css applied: both integrity hashes matched."
      : "\u2713 js/app.js ran, but site.css did not apply: its integrity hash did not match.";
  }
})();
