// Ronda's one script. Every page works without it; it adds:
// - reveal-on-click: a click on blurred media inside `.reveal` unblurs it
//   in place (without the script, the same element is a link that reloads
//   the page with the media revealed);
// - keyboard shortcuts: pressing the key named by an element's `data-key`
//   clicks it (or focuses it, for a form field), except while typing;
// - live clocks: an element `.clock` with `data-deadline` and `data-now`
//   (Unix ms, the server's) shows the time left, updated every second
//   (without the script, the time left as the page was made).
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

  function timeLeft(ms) {
    var secs = Math.trunc(ms / 1000);
    var suffix = secs >= 0 ? "left" : "overdue";
    var abs = Math.abs(secs);
    var h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60), s = abs % 60;
    var pad = function (n) { return n < 10 ? "0" + n : String(n); };
    return h > 0 ? h + " h " + pad(m) + " min " + suffix : m + " min " + pad(s) + " s " + suffix;
  }

  var clocks = document.querySelectorAll(".clock[data-deadline][data-now]");
  if (clocks.length > 0) {
    var skew = Number(clocks[0].getAttribute("data-now")) - Date.now();
    var tick = function () {
      var now = Date.now() + skew;
      for (var i = 0; i < clocks.length; i++) {
        var deadline = Number(clocks[i].getAttribute("data-deadline"));
        clocks[i].textContent = timeLeft(deadline - now);
        var row = clocks[i].closest("tr");
        if (row && deadline < now) {
          row.classList.add("overdue");
        }
      }
    };
    tick();
    window.setInterval(tick, 1000);
  }
})();
