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

// Time zones. Sign-up: the browser's zone goes into the hidden time_zone field (the
// server checks it against its zoneinfo; without this file the account starts in UTC).
// Settings: a "Use my browser's time zone" button, hidden until this file can offer
// it, picks that zone in the select.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  var fields = document.querySelectorAll("input[data-browser-time-zone]");
  for (var i = 0; i < fields.length; i++) {
    fields[i].value = zone;
  }
  var buttons = document.querySelectorAll("button[data-use-browser-time-zone]");
  for (var j = 0; j < buttons.length; j++) {
    var button = buttons[j];
    var select = document.getElementById(button.getAttribute("aria-controls"));
    if (!select || !select.querySelector('option[value="' + zone + '"]')) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", function (select) {
      return function () {
        select.value = zone;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        select.focus();
      };
    }(select));
  }
})();
