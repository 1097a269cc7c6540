// Gives each embedded explorer (an iframe of a page on this site) the height of its content,
// so it reads as part of the page with no second scroll bar, and the site's light or dark
// theme (the viewer inside redraws in the theme it is given).
(function () {
  function theme() {
    return document.documentElement.dataset.theme || "light";
  }
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        doc.documentElement.dataset.theme = theme();
        frame.style.height = (doc.documentElement.scrollHeight + 20) + "px";
      }
    } catch (e) { /* another origin: keep the fixed height */ }
  }
  function frames() {
    return document.querySelectorAll("iframe.course-explorer-frame");
  }
  document.addEventListener("DOMContentLoaded", function () {
    frames().forEach(function (frame) {
      frame.addEventListener("load", function () { fit(frame); });
      if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit(frame);
    });
    new MutationObserver(function () { frames().forEach(fit); })
      .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  });
})();
