// Gives each embedded explorer (an iframe of a page on this site) the height of its content,
// so it reads as part of the page with no second scroll bar.
(function () {
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = (doc.documentElement.scrollHeight + 20) + "px";
      }
    } catch (e) { /* another origin: keep the fixed height */ }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("iframe.course-explorer-frame").forEach(function (frame) {
      frame.addEventListener("load", function () { fit(frame); });
      if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit(frame);
    });
  });
})();
