// Progressive: the page works without this. It refreshes the numbers and the
// chart every 30 s and sends the report form with fetch, answering inline.
(function () {
  "use strict";
  var root = document.querySelector(".crowd");
  if (!root) return;
  var thanks = document.getElementById("thanks");
  if (new URLSearchParams(location.search).get("reported") === "1") thanks.hidden = false;

  function set(name, value) {
    var el = root.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = value;
  }

  function redraw(doc) {
    set("verdict", doc.verdict);
    set("recent", doc.last_15_min.reports);
    set("expected", Math.round(doc.last_15_min.expected));
    set("total", doc.total_24h);
    var verdict = root.querySelector(".verdict");
    verdict.classList.toggle("v-problems", doc.has_problems);
    verdict.classList.toggle("v-ok", !doc.has_problems);
    // The same scale as chart_geometry in crowd_view.py.
    var svg = root.querySelector(".chart"), box = svg.viewBox.baseVal;
    var rects = svg.querySelectorAll("rect"), b = doc.buckets;
    if (rects.length !== b.length) return;
    var top = 1;
    b.forEach(function (x) { top = Math.max(top, x.reports, x.expected); });
    top *= 1.1;
    var points = [];
    b.forEach(function (x, i) {
      var h = box.height * x.reports / top, r = rects[i];
      r.setAttribute("y", (box.height - h).toFixed(2));
      r.setAttribute("height", h.toFixed(2));
      var w = Number(r.getAttribute("width"));
      points.push((Number(r.getAttribute("x")) + w / 2).toFixed(2) + "," +
                  (box.height - box.height * x.expected / top).toFixed(2));
    });
    svg.querySelector("polyline").setAttribute("points", points.join(" "));
  }

  function poll() {
    fetch(root.dataset.json, {headers: {accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) { if (doc) redraw(doc); })
      .catch(function () {});
  }
  setInterval(poll, 30000);

  var form = root.querySelector(".report-form");
  if (!form) return;
  var result = form.querySelector(".form-result");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    new FormData(form).forEach(function (value, key) { if (value) body[key] = value; });
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {method: "POST", headers: {"content-type": "application/json"},
                        body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (doc) { return [r.ok, doc]; }); })
      .then(function (answer) {
        var ok = answer[0], doc = answer[1];
        result.textContent = !ok ? "Your report was not sent: " + doc.error + "."
          : doc.counted ? "Thanks, your report was counted."
          : "Thanks. You already reported in the last 30 minutes, so this one is not counted again.";
        result.hidden = false;
        if (ok) poll();
      })
      .catch(function () {
        result.textContent = "Your report could not be sent. Please try again.";
        result.hidden = false;
      })
      .then(function () { button.disabled = false; });
  });
})();
