// Progressive enhancement only: every page works without this file.
// A code block or table in a post that is wider than the screen scrolls inside itself;
// give each such one a place in the tab order so that keyboard users can scroll it with
// the arrow keys (Chromium and Firefox do this on their own, Safari does not).
(function () {
  "use strict";
  var ADDED = "data-scroll-focus";

  function update() {
    var boxes = document.querySelectorAll(".post-body pre, .post-body table");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var overflows = box.scrollWidth > box.clientWidth;
      if (overflows && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute(ADDED, "");
      } else if (!overflows && box.hasAttribute(ADDED)) {
        box.removeAttribute("tabindex");
        box.removeAttribute(ADDED);
      }
    }
  }

  var pending = 0;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(update, 150);
  });
  update();
})();
