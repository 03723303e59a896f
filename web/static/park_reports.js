/* Editors' report list: the token is typed in, kept in sessionStorage (this tab only), sent as a
   bearer header to the JSON API. Every text from the API goes in through textContent (never HTML). */
(function () {
  "use strict";
  var form = document.getElementById("yz-reports-form");
  if (!form) { return; }
  var KEY = "yizhan.editorToken";
  var input = document.getElementById("yz-token");
  var status = document.getElementById("yz-reports-status");
  var table = document.getElementById("yz-reports");
  var body = table.querySelector("tbody");
  var d = form.dataset;

  function token() { return sessionStorage.getItem(KEY) || ""; }
  function say(text) { status.textContent = text; }
  function kindLabel(kind) { return form.getAttribute("data-kind-" + kind.replace(/_/g, "-")) || kind; }

  function call(method, url) {
    return fetch(url, {method: method, headers: {"Authorization": "Bearer " + token(), "Accept": "application/json"}})
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error((data.error && data.error.message) || String(r.status)); }
          return data;
        });
      });
  }

  function cell(row, text) { var td = document.createElement("td"); td.textContent = text || ""; row.appendChild(td); return td; }

  function show(reports) {
    body.textContent = "";
    table.hidden = reports.length === 0;
    say(reports.length ? "" : d.none);
    reports.forEach(function (rep) {
      var tr = document.createElement("tr");
      cell(tr, rep.created_at.replace("T", " ").slice(0, 16));
      var where = cell(tr, "");
      var a = document.createElement("a");
      a.href = d.station.replace("__ID__", encodeURIComponent(rep.station_id));
      a.textContent = rep.station_name || rep.station_id;
      where.appendChild(a);
      cell(tr, kindLabel(rep.kind));
      cell(tr, rep.note);
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "btn"; btn.textContent = d.resolveLabel;
      btn.addEventListener("click", function () {
        btn.disabled = true;
        call("POST", d.resolve.replace(/\/0\/resolve$/, "/" + rep.id + "/resolve"))
          .then(function () { tr.remove(); say(d.resolved); })
          .catch(function (e) { btn.disabled = false; say(d.failed + e.message); });
      });
      cell(tr, "").appendChild(btn);
      body.appendChild(tr);
    });
  }

  function load() {
    say("…");
    call("GET", d.api + "?status=open").then(function (data) { show(data.reports); })
      .catch(function (e) { table.hidden = true; say(d.failed + e.message); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    load();
  });
  document.getElementById("yz-forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY); body.textContent = ""; table.hidden = true; say("");
  });
  if (token()) { input.required = false; load(); }
})();
