/* Yizhan pages: progressive enhancement only (the lists work without this file).
   Plain ES5 for old in-app browsers: no modules, no arrow functions, no fetch. */
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function readConfig() {
    var el = byId("yz-config");
    if (!el) { return {}; }
    try { return JSON.parse(el.textContent || el.innerText || "{}"); } catch (e) { return {}; }
  }

  var cfg = readConfig();
  var text = cfg.strings || {};
  var root = document.documentElement;
  if (!/(^| )js( |$)/.test(root.className)) { root.className += (root.className ? " " : "") + "js"; }

  function say(el, message) {
    if (el) { el.textContent = message; el.hidden = !message; }
  }

  /* ---- locate me: fill lat/lon into the search form and send it ---- */
  function setUpLocate() {
    var button = byId("yz-locate");
    var form = byId("yz-search");
    var status = byId("yz-locate-status");
    if (!button || !form || !navigator.geolocation) { return; }
    button.hidden = false;
    if (byId("yz-or")) { byId("yz-or").hidden = false; }
    button.addEventListener("click", function () {
      say(status, text.locating || "");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        form.elements.lat.disabled = false;
        form.elements.lon.disabled = false;
        if (form.elements.q) { form.elements.q.disabled = true; }
        form.submit();
      }, function () {
        button.disabled = false;
        say(status, text.locate_failed || "");
        if (form.elements.q) { form.elements.q.focus(); }
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  /* ---- 大字: text +25 %, remembered in a cookie (the link works without this script too) ---- */
  function setUpBigText() {
    var link = byId("yz-big");
    if (!link) { return; }
    var on = /(^|; )yz_big=1(;|$)/.test(document.cookie);
    function show() {
      root.className = root.className.replace(/(^| )big( |$)/, " ").replace(/^ +| +$/g, "") + (on ? " big" : "");
      link.setAttribute("aria-pressed", on ? "true" : "false");
    }
    show();
    link.addEventListener("click", function (event) {
      event.preventDefault();
      on = !on;
      document.cookie = "yz_big=" + (on ? "1" : "0") + "; path=/; max-age=31536000; SameSite=Lax";
      show();
    });
  }

  /* ---- 朗读: read the first card aloud, only where the browser has a Chinese voice ---- */
  function zhVoice() {
    var voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : [];
    for (var i = 0; i < voices.length; i++) {
      if (/^zh([-_]CN)?$/i.test(voices[i].lang) || /^zh[-_]Hans/i.test(voices[i].lang)) { return voices[i]; }
    }
    return null;
  }

  function setUpReadAloud() {
    var button = byId("yz-read");
    if (!button || !window.speechSynthesis || !window.SpeechSynthesisUtterance) { return; }
    function check() { button.hidden = !zhVoice() || !document.querySelector(".card"); }
    check();
    if (window.speechSynthesis.addEventListener) { window.speechSynthesis.addEventListener("voiceschanged", check); }
    button.addEventListener("click", function () {
      var card = document.querySelector(".card");
      var voice = zhVoice();
      if (!card || !voice) { return; }
      window.speechSynthesis.cancel();
      var parts = card.querySelectorAll("h2, .distance, .state, .flagline, .line");
      var words = [];
      for (var i = 0; i < parts.length; i++) { words.push(parts[i].textContent.replace(/\s+/g, " ")); }
      var say = new window.SpeechSynthesisUtterance(words.join("。"));
      say.lang = voice.lang;
      try { say.voice = voice; } catch (e) { /* the language alone picks a voice then */ }
      say.rate = 0.9;
      window.speechSynthesis.speak(say);
    });
  }

  /* ---- tiles that never load (blocked, offline): fold the map to its one-line note ---- */
  function watchTiles() {
    var box = byId("yz-map-box");
    var loaded = 0, failed = 0;
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) { return; }
      layer.on("tileload", function () { loaded += 1; if (box) { box.className = box.className.replace(" no-tiles", ""); } });
      layer.on("tileerror", function () {
        failed += 1;
        if (!loaded && failed >= 2 && box && box.className.indexOf("no-tiles") < 0) { box.className += " no-tiles"; }
      });
    });
  }

  /* ---- need buttons: with no place typed, ask for the location once (kept for the visit) ---- */
  function setUpNeeds() {
    var form = byId("yz-search");
    var box = byId("yz-needs");
    if (!form || !box || !navigator.geolocation) { return; }
    var status = byId("yz-locate-status");
    function go(need, here) {
      var chosen = byId("yz-need-chosen") || document.createElement("input");
      chosen.type = "hidden"; chosen.id = "yz-need-chosen"; chosen.name = "need"; chosen.value = need;
      form.appendChild(chosen);
      if (here) {
        form.elements.lat.value = here[0]; form.elements.lon.value = here[1];
        form.elements.lat.disabled = false; form.elements.lon.disabled = false;
        if (form.elements.q) { form.elements.q.disabled = true; }
      }
      form.submit();
    }
    function ask(need) {
      var saved = null;
      try { saved = JSON.parse(window.sessionStorage.getItem("yz-here") || "null"); } catch (e) { saved = null; }
      if (saved) { go(need, saved); return; }
      say(status, text.locating || "");
      navigator.geolocation.getCurrentPosition(function (pos) {
        var here = [pos.coords.latitude.toFixed(6), pos.coords.longitude.toFixed(6)];
        try { window.sessionStorage.setItem("yz-here", JSON.stringify(here)); } catch (e) { /* private mode */ }
        go(need, here);
      }, function () { go(need, null); }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    }
    var buttons = box.getElementsByTagName("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        var q = form.elements.q;
        if (q && q.value.replace(/\s+/g, "")) { return; }  /* a place typed: the plain submit carries it */
        event.preventDefault();
        ask(this.value);
      });
    }
  }

  /* ---- the map, built by folium; find it and its groups by their global names ---- */
  var map = null;
  var groups = {};
  var markers = {};

  function collectMarkers() {
    var name;
    for (name in cfg.groups || {}) {
      if (cfg.groups.hasOwnProperty(name) && window[cfg.groups[name]]) {
        groups[name] = window[cfg.groups[name]];
        groups[name].eachLayer(function (layer) {
          if (layer.options && layer.options.stationId) { markers[layer.options.stationId] = layer; }
        });
      }
    }
  }

  function closestWithAttr(el, attr) {
    while (el && el !== document) {
      if (el.getAttribute && el.getAttribute(attr)) { return el; }
      el = el.parentNode;
    }
    return null;
  }

  function showOnMap(id) {
    var marker = markers[id];
    if (!marker || !map) { return false; }
    var box = byId("yz-map-box");
    if (box && box.scrollIntoView) { box.scrollIntoView(); }
    var group = null, name;
    for (name in groups) {
      if (groups.hasOwnProperty(name) && groups[name].zoomToShowLayer && groups[name].hasLayer(marker)) { group = groups[name]; }
    }
    if (group) {
      group.zoomToShowLayer(marker, function () { marker.openPopup(); });
    } else {
      /* no animation: a popup pans itself clear of the controls (autoPanPadding) only when none runs */
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 15), {animate: false});
      marker.openPopup();
    }
    return true;
  }

  function setUpListSync() {
    document.addEventListener("click", function (event) {
      var link = closestWithAttr(event.target, "data-station");
      if (link && showOnMap(link.getAttribute("data-station"))) { event.preventDefault(); }
    });
    map.on("popupopen", function (event) {
      var id = event.popup._source && event.popup._source.options.stationId;
      var card = id ? byId("s-" + id) : null;
      var cards = document.querySelectorAll(".card.current");
      for (var i = 0; i < cards.length; i++) { cards[i].className = cards[i].className.replace(" current", ""); }
      if (card) { card.className += " current"; }
    });
  }

  /* ---- the big map of "/": station dots by viewport, popups filled on demand ---- */
  function request(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      done(xhr.status, body);
    };
    xhr.send();
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content) { node.textContent = content; }
    return node;
  }

  function popupFor(id, marker) {
    request(cfg.station_api.replace("__ID__", encodeURIComponent(id)), function (status, body) {
      var box = el("div", "yz-popup");
      if (status !== 200 || !body || !body.properties) {
        box.appendChild(el("p", "", text.load_failed || ""));
      } else {
        var p = body.properties;
        box.appendChild(el("strong", "name", (cfg.lang === "en" && p.name_en) || p.name));
        box.appendChild(el("div", "layer", (cfg.layer_names || {})[p.layer] || p.layer));
        var state = p.open_now === true ? "open" : (p.open_now === false ? "closed" : "unknown");
        box.appendChild(el("div", "state " + state, text["state_" + state] || ""));
        if (p.hours_today && p.hours_today.length) {
          var spans = p.hours_today.join(", ");
          var allDay = spans === "00:00-24:00" || spans === "00:00-00:00";
          box.appendChild(el("div", "hours", allDay ? (text.all_day || "") : (text.today || "") + " " + spans));
        }
        var more = el("a", "more", text.details || "");
        more.href = cfg.station_page.replace("__ID__", encodeURIComponent(id));
        box.appendChild(more);
      }
      marker.setPopupContent(box);
    });
  }

  function dotFor(point) {
    var layer = cfg.layer_ids[point[3]];
    var dot = el("span", "yz-pin-dot");
    dot.style.background = cfg.colours[layer];
    var marker = L.marker([point[2], point[1]], {
      icon: L.divIcon({className: "yz-pin yz-pin-small", html: dot.outerHTML, iconSize: [26, 26], iconAnchor: [13, 13]}),
      stationId: point[0], keyboard: false
    });
    marker.bindPopup(text.loading || "", {maxWidth: 280});
    marker.once("popupopen", function () { popupFor(point[0], marker); });
    return marker;
  }

  var loaded = {};
  var pending = null;
  var covered = [];  /* boxes fully loaded already (answers that were not truncated) */

  function inside(box) {
    for (var i = 0; i < covered.length; i++) {
      var c = covered[i];
      if (box[0] >= c[0] && box[1] >= c[1] && box[2] <= c[2] && box[3] <= c[3]) { return true; }
    }
    return false;
  }

  function loadViewport() {
    var b = map.getBounds();
    var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    box[0] = Math.max(-180, box[0]); box[1] = Math.max(-90, box[1]);
    box[2] = Math.min(180, box[2]); box[3] = Math.min(90, box[3]);
    var url = cfg.feed + "?bbox=" + box.map(function (v) { return v.toFixed(5); }).join(",");
    if (pending === url || inside(box)) { return; }
    pending = url;
    request(url, function (status, body) {
      pending = null;
      if (status !== 200 || !body || !body.points) { return; }
      if (!body.truncated) { covered.push(box); }
      cfg.layer_ids = body.layers;
      var fresh = {}, i, point, layer;
      for (i = 0; i < body.points.length; i++) {
        point = body.points[i];
        if (loaded[point[0]]) { continue; }
        loaded[point[0]] = true;
        layer = body.layers[point[3]];
        (fresh[layer] = fresh[layer] || []).push(dotFor(point));
      }
      for (layer in fresh) {
        if (fresh.hasOwnProperty(layer) && groups[layer]) { groups[layer].addLayers(fresh[layer]); }
      }
      var note = byId("yz-map-note");
      say(note, body.truncated ? (text.zoom_in || "") : "");
    });
  }

  function setUpLayerFilter() {
    var boxes = document.querySelectorAll("input[name=layer]");
    function apply() {
      var any = false, i;
      for (i = 0; i < boxes.length; i++) { any = any || boxes[i].checked; }
      for (i = 0; i < boxes.length; i++) {
        var group = groups[boxes[i].value];
        if (!group) { continue; }
        if (boxes[i].checked || !any) { map.addLayer(group); } else { map.removeLayer(group); }
      }
    }
    for (var i = 0; i < boxes.length; i++) { boxes[i].addEventListener("change", apply); }
    apply();
  }

  function setUpMap() {
    map = cfg.map ? window[cfg.map] : null;
    if (!map) { return; }
    collectMarkers();
    setUpListSync();
    watchTiles();
    if (cfg.feed) {
      map.on("moveend", loadViewport);
      setUpLayerFilter();
      loadViewport();
    }
    var hash = (window.location.hash || "").replace(/^#m-/, "");
    if (hash && hash !== window.location.hash) { showOnMap(decodeURIComponent(hash)); }
  }

  setUpLocate();
  setUpBigText();
  setUpReadAloud();
  setUpNeeds();
  /* the map's own script runs on DOMContentLoaded (after the deferred Leaflet); ours after it */
  /* a deferred script runs while readyState is "interactive", before DOMContentLoaded */
  if (document.readyState !== "complete") {
    document.addEventListener("DOMContentLoaded", setUpMap);
  } else {
    setUpMap();
  }
}());
