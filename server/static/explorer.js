// Network explorer: hovering or focusing a node highlights it, its links and its neighbours.
(function () {
  "use strict";
  var svg = document.getElementById("explorer-svg");
  if (!svg) { return; }
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  function clear() {
    svg.classList.remove("is-active");
    Array.prototype.forEach.call(svg.querySelectorAll(".hl"), function (el) { el.classList.remove("hl"); });
  }
  function highlight(node) {
    clear();
    svg.classList.add("is-active");
    node.classList.add("hl");
    edges.forEach(function (edge) {
      var s = edge.getAttribute("data-s"), t = edge.getAttribute("data-t");
      if (s === node.id || t === node.id) {
        edge.classList.add("hl");
        var other = document.getElementById(s === node.id ? t : s);
        if (other) { other.classList.add("hl"); }
      }
    });
  }
  Array.prototype.forEach.call(svg.querySelectorAll("a.node"), function (node) {
    node.addEventListener("mouseenter", function () { highlight(node); });
    node.addEventListener("focus", function () { highlight(node); });
    node.addEventListener("mouseleave", clear);
    node.addEventListener("blur", clear);
  });
}());
