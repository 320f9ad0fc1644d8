// Ronda's one script. Every page works without it; it adds:
// - reveal-on-click: a click on blurred media inside `.reveal` unblurs it
//   in place (without the script, the same element is a link that reloads
//   the page with the media revealed);
// - keyboard shortcuts: pressing the key named by an element's `data-key`
//   clicks it (or focuses it, for a form field), except while typing.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var box = event.target.closest(".reveal");
    if (!box) {
      return;
    }
    var blurred = box.querySelector(".blur");
    if (blurred) {
      event.preventDefault();
      blurred.classList.remove("blur");
      box.classList.add("revealed");
    } else if (box.classList.contains("revealed")) {
      event.preventDefault();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) {
      return;
    }
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) {
      return;
    }
    var all = document.querySelectorAll("[data-key]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-key") === event.key) {
        event.preventDefault();
        if (/^(INPUT|TEXTAREA|SELECT)$/.test(all[i].tagName)) {
          all[i].focus();
        } else {
          all[i].click();
        }
        return;
      }
    }
  });
})();
