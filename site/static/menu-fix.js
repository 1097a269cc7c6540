// The menu button below 992 px. pydata-sphinx-theme (0.16 and later) opens the narrow-screen
// menu from the first ".primary-toggle" of the page, its own hidden button; the button
// sphinx-book-theme (1.4) shows is a second one, so a click on it did nothing. Pass the click on.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var toggles = document.querySelectorAll(".primary-toggle");
    var opener = toggles[0];
    Array.prototype.slice.call(toggles, 1).forEach(function (shown) {
      shown.addEventListener("click", function (event) {
        if (window.matchMedia("(min-width: 992px)").matches) return;  // the theme's own toggle
        event.preventDefault();
        event.stopPropagation();
        opener.click();
      });
    });
  });
})();
