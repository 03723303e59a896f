/* Yizhan heat layer: weighted points drawn as a heat map on a canvas, for Leaflet 1.x. Plain ES5.

   L.yizhanHeat(points, options) where points are [lat, lng, weight] in the map's coordinates.
   Each point stamps a radial gradient (alpha = weight / max) on a grey canvas; the summed alpha
   is then coloured through a palette. Redrawn after every move, zoom and resize; hidden during
   zoom animation. Options:
     max          weight that gives full intensity (default: the largest weight)
     radius       stamp radius in screen pixels (default 25)
     radiusMeters if set, the radius follows this ground distance, clamped to [minRadius, maxRadius]
     blur         share of the radius that fades out (0..1, default 0.85)
     minOpacity   least alpha of a point with weight > 0 (default 0.15)
     maxOpacity   alpha of the hottest pixels (default 0.8)
     gradient     {stop: css colour}, stops in 0..1 (default: yellow, orange, red)
*/
(function (L) {
  "use strict";
  if (!L) { return; }

  var PAD = 0.25; /* canvas reaches this share of the view beyond each edge, so drags show heat */

  function makeCanvas() {
    return document.createElement("canvas");
  }

  function palette(stops) {
    var canvas = makeCanvas();
    var ctx = canvas.getContext("2d");
    var grad = ctx.createLinearGradient(0, 0, 0, 256);
    var stop;
    canvas.width = 1;
    canvas.height = 256;
    for (stop in stops) {
      if (stops.hasOwnProperty(stop)) { grad.addColorStop(+stop, stops[stop]); }
    }
    ctx.fillStyle = grad;
    ctx.fillRect(0, 0, 1, 256);
    return ctx.getImageData(0, 0, 1, 256).data;
  }

  function stamp(radius, blur) {
    var canvas = makeCanvas();
    var ctx = canvas.getContext("2d");
    var size = 2 * radius;
    var grad = ctx.createRadialGradient(radius, radius, 0, radius, radius, radius);
    canvas.width = size;
    canvas.height = size;
    grad.addColorStop(0, "rgba(0,0,0,1)");
    grad.addColorStop(Math.max(0, Math.min(1, 1 - blur)), "rgba(0,0,0,1)");
    grad.addColorStop(1, "rgba(0,0,0,0)");
    ctx.fillStyle = grad;
    ctx.fillRect(0, 0, size, size);
    return canvas;
  }

  L.YizhanHeat = L.Layer.extend({
    options: {
      max: null, radius: 25, radiusMeters: null, minRadius: 8, maxRadius: 80, blur: 0.85,
      minOpacity: 0.15, maxOpacity: 0.8, pane: "yizhanHeat",
      gradient: {0.0: "#ffffb2", 0.3: "#fecc5c", 0.55: "#fd8d3c", 0.8: "#f03b20", 1.0: "#bd0026"}
    },

    initialize: function (points, options) {
      L.setOptions(this, options);
      this._points = points || [];
      this._palette = null;
      this._stamps = {};
    },

    setPoints: function (points) {
      this._points = points || [];
      return this.redraw();
    },

    redraw: function () {
      if (this._map) { this._reset(); }
      return this;
    },

    onAdd: function (map) {
      var pane = map.getPane(this.options.pane);
      if (!pane) {
        pane = map.createPane(this.options.pane);
        pane.style.zIndex = 350; /* above the tiles, under circles, markers and popups */
        pane.style.pointerEvents = "none";
      }
      this._canvas = L.DomUtil.create("canvas", "yz-heat leaflet-zoom-hide", pane);
      this._canvas.style.pointerEvents = "none";
      this._palette = this._palette || palette(this.options.gradient);
      this._reset();
    },

    onRemove: function () {
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
    },

    getEvents: function () {
      return {moveend: this._reset, resize: this._reset, viewreset: this._reset};
    },

    _radius: function () {
      var o = this.options;
      var map = this._map;
      var bounds, west, east;
      if (!o.radiusMeters) { return Math.round(o.radius); }
      bounds = map.getCenter().toBounds(2 * o.radiusMeters);
      west = map.latLngToContainerPoint(bounds.getSouthWest());
      east = map.latLngToContainerPoint(bounds.getNorthEast());
      return Math.round(Math.max(o.minRadius, Math.min(o.maxRadius, Math.abs(east.x - west.x) / 2)));
    },

    _stamp: function (radius) {
      var key = radius + ":" + this.options.blur;
      if (!this._stamps[key]) { this._stamps[key] = stamp(radius, this.options.blur); }
      return this._stamps[key];
    },

    _reset: function () {
      var map = this._map;
      var size = map.getSize();
      var pad = size.multiplyBy(PAD).round();
      var topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1));
      if (!this._canvas) { return; }
      L.DomUtil.setPosition(this._canvas, topLeft);
      this._canvas.width = size.x + 2 * pad.x;
      this._canvas.height = size.y + 2 * pad.y;
      if (size.x > 0 && size.y > 0) { this._draw(pad); }
    },

    _maxWeight: function () {
      var top = 0;
      var i;
      if (this.options.max) { return this.options.max; }
      for (i = 0; i < this._points.length; i++) { top = Math.max(top, +this._points[i][2] || 0); }
      return top || 1;
    },

    _draw: function (pad) {
      var ctx = this._canvas.getContext("2d");
      var width = this._canvas.width;
      var height = this._canvas.height;
      var radius = this._radius();
      var image = this._stamp(radius);
      var top = this._maxWeight();
      var o = this.options;
      var i, p, weight, at;
      ctx.clearRect(0, 0, width, height);
      for (i = 0; i < this._points.length; i++) {
        p = this._points[i];
        weight = +p[2] || 0;
        if (weight <= 0) { continue; }
        at = this._map.latLngToContainerPoint([p[0], p[1]]).add(pad);
        if (at.x < -radius || at.y < -radius || at.x > width + radius || at.y > height + radius) { continue; }
        ctx.globalAlpha = Math.min(1, Math.max(o.minOpacity, weight / top));
        ctx.drawImage(image, at.x - radius, at.y - radius);
      }
      ctx.globalAlpha = 1;
      this._colourise(ctx, width, height);
    },

    _colourise: function (ctx, width, height) {
      var image = ctx.getImageData(0, 0, width, height);
      var px = image.data;
      var colours = this._palette;
      var most = Math.round(255 * this.options.maxOpacity);
      var i, a, j;
      for (i = 3; i < px.length; i += 4) {
        a = px[i];
        if (!a) { continue; }
        j = a * 4;
        px[i - 3] = colours[j];
        px[i - 2] = colours[j + 1];
        px[i - 1] = colours[j + 2];
        px[i] = Math.min(most, Math.round(a * 1.4));
      }
      ctx.putImageData(image, 0, 0);
    }
  });

  L.yizhanHeat = function (points, options) {
    return new L.YizhanHeat(points, options);
  };
}(window.L));
