// The phone menu (Bootstrap Italia's navbar markup and CSS; this small script replaces its JS bundle, whose
// bundled video player injects inline styles that the site's Content-Security-Policy refuses).
(function () {
  "use strict";
  var toggler = document.querySelector(".custom-navbar-toggler");
  var menu = document.getElementById("main-menu");
  if (!toggler || !menu) { return; }
  var overlay = menu.querySelector(".overlay");
  var close = menu.querySelector(".close-menu");
  function setOpen(open) {
    menu.classList.toggle("expanded", open);
    menu.style.display = open ? "block" : "";
    if (overlay) { overlay.style.display = open ? "block" : ""; }
    toggler.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      var first = menu.querySelector(".nav-link");
      if (first) { first.focus(); }
    } else {
      toggler.focus();
    }
  }
  toggler.addEventListener("click", function () { setOpen(true); });
  if (close) { close.addEventListener("click", function () { setOpen(false); }); }
  if (overlay) { overlay.addEventListener("click", function () { setOpen(false); }); }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && menu.classList.contains("expanded")) { setOpen(false); }
  });
}());
