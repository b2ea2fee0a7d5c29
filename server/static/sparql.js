// Query page: highlighting overlay, examples, running the query, results table, download links.
(function () {
  "use strict";
  var form = document.getElementById("sparql-form");
  var area = document.getElementById("query");
  var code = document.getElementById("highlight");
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var examples = JSON.parse(document.getElementById("examples-data").textContent);
  var base = form.dataset.base;
  var KW = /^(SELECT|CONSTRUCT|DESCRIBE|ASK|WHERE|PREFIX|BASE|FROM|NAMED|GRAPH|OPTIONAL|UNION|MINUS|FILTER|BIND|VALUES|AS|DISTINCT|REDUCED|ORDER|BY|ASC|DESC|LIMIT|OFFSET|GROUP|HAVING|COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT|EXISTS|NOT|IN|LANG|LANGMATCHES|STR|STRSTARTS|CONTAINS|REGEX|IF|COALESCE|a|true|false)$/i;
  var TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$][\w]+)|([A-Za-z_][\w.-]*:[\w.-]*)|([A-Za-z_]+)/g;
  function esc(s) { return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function highlight() {
    var text = area.value, out = "", last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      out += esc(text.slice(last, m.index));
      var cls = m[1] ? "com" : m[2] ? "str" : m[3] ? "iri" : m[4] ? "var" : m[5] ? "pn" : (KW.test(m[6]) ? "kw" : "");
      out += cls ? '<span class="hl-' + cls + '">' + esc(m[0]) + "</span>" : esc(m[0]);
      last = TOKEN.lastIndex;
    }
    code.innerHTML = out + esc(text.slice(last)) + "\n";
    updateDownloads();
  }
  var formats = JSON.parse(document.getElementById("formats-data").textContent);
  var downloads = document.getElementById("downloads");
  var FORM = /(^|[\s}])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])/i;
  function queryForm() {
    var bare = area.value.replace(/#[^\n]*/g, " ").replace(/<[^<>\s]*>/g, " ").replace(/"[^"\n]*"|'[^'\n]*'/g, " ");
    var m = FORM.exec(bare);
    return m ? m[2].toUpperCase() : "SELECT";
  }
  function updateDownloads() {
    var form = queryForm();
    downloads.textContent = "";
    formats.filter(function (f) { return f.forms.indexOf(form) >= 0; }).forEach(function (f) {
      var a = document.createElement("a");
      a.className = "download";
      a.dataset.format = f.name;
      a.href = "/sparql?" + new URLSearchParams({ query: area.value, format: f.name }).toString();
      a.textContent = f.label;
      downloads.appendChild(a);
      downloads.appendChild(document.createTextNode(" "));
    });
  }
  function localHref(iri) { return iri.indexOf(base) === 0 ? "/" + iri.slice(base.length) : iri; }
  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri" && /^https?:\/\//i.test(term.value)) {  // never a live javascript: or data: link
      var a = document.createElement("a");
      a.href = localHref(term.value);
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value + (term["xml:lang"] ? " @" + term["xml:lang"] : "");
    }
    return td;
  }
  function showTable(data, truncated) {
    results.textContent = "";
    var h = document.createElement("h2");
    h.textContent = form.dataset.i18nResults;
    results.appendChild(h);
    if (data.boolean !== undefined) { var p = document.createElement("p"); p.textContent = String(data.boolean); results.appendChild(p); return; }
    var table = document.createElement("table"), thead = document.createElement("thead"), tr = document.createElement("tr");
    data.head.vars.forEach(function (v) { var th = document.createElement("th"); th.textContent = "?" + v; tr.appendChild(th); });
    thead.appendChild(tr); table.appendChild(thead);
    var tbody = document.createElement("tbody");
    data.results.bindings.forEach(function (b) {
      var row = document.createElement("tr");
      data.head.vars.forEach(function (v) { row.appendChild(cell(b[v])); });
      tbody.appendChild(row);
    });
    table.appendChild(tbody); results.appendChild(table);
    var n = data.results.bindings.length;  // the page gives its words, in its language (see sparql.html)
    status.textContent = (n === 1 ? form.dataset.i18nRow : form.dataset.i18nRows).replace("N", String(n)) +
      (truncated ? " (" + form.dataset.i18nCut + ")" : "");
  }
  function run(ev) {
    if (ev) { ev.preventDefault(); }
    status.textContent = "…";
    fetch("/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json, text/turtle;q=0.9" },
      body: new URLSearchParams({ query: area.value }).toString()
    }).then(function (r) {
      var truncated = r.headers.get("X-Parita-Truncated") === "true";
      var type = r.headers.get("Content-Type") || "";
      return r.text().then(function (text) {
        if (!r.ok) { status.textContent = "HTTP " + r.status; results.textContent = ""; var pre = document.createElement("pre"); pre.textContent = text; results.appendChild(pre); return; }
        if (type.indexOf("json") >= 0) { showTable(JSON.parse(text), truncated); return; }
        results.textContent = ""; var out = document.createElement("pre"); out.className = "rdf"; out.textContent = text; results.appendChild(out);
        status.textContent = "OK";
      });
    }).catch(function (e) { status.textContent = String(e); });
  }
  document.getElementById("examples").addEventListener("change", function (ev) {
    area.value = examples[Number(ev.target.value)].query; highlight();
  });
  area.addEventListener("input", highlight);
  area.addEventListener("scroll", function () { code.parentNode.scrollTop = area.scrollTop; });
  form.addEventListener("submit", run);
  highlight();
  if (form.dataset.autorun === "true") { run(); }
}());
