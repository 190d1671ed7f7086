/**
 * index.html of `cbnn export web`: one static page, no external resources. It loads the bundled
 * engine (engine.js), then the model, the kernels' wasm and the bundled test images: with fetch
 * from a static server, or from assets.js (the same bytes, base64) when opened from file://,
 * where browsers refuse fetch. window.cbnnDeploy exposes the state for tests.
 */
export interface PageInfo {
  title: string;
  modelFile: string;
  wasmFile: string;
  imagesFile: string;
  assetsFile: string;
  engineFile: string;
}

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
header { background: #1d2433; color: #fff; padding: 14px 24px; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 0; color: #c9d1e0; font-size: 13px; }
main { display: flex; flex-wrap: wrap; gap: 20px; padding: 20px 24px; }
section { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 14px 16px; }
h2 { font-size: 16px; margin: 0 0 10px; }
#pad { border: 1px solid #888; background: #000; touch-action: none; cursor: crosshair; display: block; }
button { font: inherit; margin: 8px 6px 0 0; padding: 4px 12px; }
#result { min-width: 280px; }
#predicted { font-size: 40px; font-weight: 700; margin: 0; }
.bar { display: flex; align-items: center; gap: 6px; font-size: 13px; margin: 2px 0; }
.bar span:first-child { width: 70px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar i { display: inline-block; height: 12px; background: #4c78a8; }
.bar.top i { background: #e45756; }
.bar b { font-weight: 400; color: #555; min-width: 64px; text-align: right; }
#gallery { max-width: 560px; }
#thumbs { display: flex; flex-wrap: wrap; gap: 4px; }
#thumbs canvas { width: 42px; height: 42px; image-rendering: pixelated; border: 2px solid transparent; cursor: pointer; }
#thumbs canvas.wrong { border-color: #e45756; }
#thumbs canvas.right { border-color: #54a24b; }
dl { display: grid; grid-template-columns: auto auto; gap: 2px 12px; margin: 0; font-size: 13px; }
dt { color: #555; }
#status { font-size: 13px; color: #555; }
#error { color: #b00020; white-space: pre-wrap; }
`;

/** The page's script: plain browser JavaScript (no build step), kept readable. */
const SCRIPT = String.raw`
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('cbnn-config').textContent);
  var state = window.cbnnDeploy = { ready: false, error: null, predictions: null, model: null };
  var $ = function (id) { return document.getElementById(id); };

  function fromBase64(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src; s.onload = resolve; s.onerror = function () { reject(new Error('cannot load ' + src)); };
      document.head.appendChild(s);
    });
  }
  function fetchBytes(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.arrayBuffer();
    }).then(function (b) { return new Uint8Array(b); });
  }
  // file:// pages cannot fetch: the same bytes come from assets.js there.
  function loadAssets() {
    if (location.protocol === 'file:') {
      return loadScript(cfg.assetsFile).then(function () {
        var a = window.CBNN_ASSETS;
        return { model: fromBase64(a.model), wasm: fromBase64(a.wasm), images: a.images };
      });
    }
    return Promise.all([fetchBytes(cfg.modelFile), fetchBytes(cfg.wasmFile), fetch(cfg.imagesFile).then(function (r) { return r.json(); })])
      .then(function (r) { return { model: r[0], wasm: r[1], images: r[2] }; });
  }

  var engine, packer, model, packed, scores, pixels, H, W, C;

  function predict(image) {
    packer.pack(image, 0, 1, packed);
    engine.predict(packed, 1, scores);
    // Time enough repeats for a stable per-image figure (browser timers are coarse).
    var runs = 0, t0 = performance.now(), t;
    do { packer.pack(image, 0, 1, packed); engine.predict(packed, 1, scores); runs++; t = performance.now() - t0; } while (t < 20 && runs < 1000);
    var best = 0;
    for (var c = 1; c < scores.length; c++) if (scores[c] > scores[best]) best = c;
    return { predicted: best, scores: Array.from(scores), latencyMs: t / runs, runs: runs };
  }

  function show(result, label) {
    $('predicted').textContent = model.classNames[result.predicted];
    $('latency').textContent = result.latencyMs.toFixed(3) + ' ms per image (mean of ' + result.runs + ' runs, engine wasm, batch 1)';
    $('truth').textContent = label === undefined ? 'drawn' : 'label: ' + model.classNames[label];
    var max = Math.max.apply(null, result.scores.map(Math.abs)) || 1, html = '';
    result.scores.forEach(function (s, c) {
      html += '<div class="bar' + (c === result.predicted ? ' top' : '') + '"><span>' + escapeHtml(model.classNames[c]) + '</span><b>' + s.toFixed(3) +
        '</b><i style="width:' + Math.round(120 * Math.max(0, s) / max) + 'px"></i></div>';
    });
    $('scores').innerHTML = html;
  }
  function escapeHtml(s) { return String(s).replace(/[&<>"]/g, function (ch) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[ch]; }); }

  // Drawing: white strokes on black, scaled into the model's input like MNIST (the digit's
  // bounding box fitted into 20/28 of the frame, centred).
  function setupPad() {
    var pad = $('pad'), ctx = pad.getContext('2d'), down = false, drawn = false;
    function clear() { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, pad.width, pad.height); drawn = false; }
    function pos(e) { var r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; }
    clear();
    ctx.lineCap = 'round'; ctx.lineJoin = 'round'; ctx.strokeStyle = '#fff'; ctx.lineWidth = pad.width / 12;
    pad.addEventListener('pointerdown', function (e) { down = true; drawn = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(p[0], p[1]); ctx.stroke(); pad.setPointerCapture(e.pointerId); });
    pad.addEventListener('pointermove', function (e) { if (!down) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); });
    pad.addEventListener('pointerup', function () { down = false; if (drawn) show(predict(padPixels()), undefined); });
    $('clear').addEventListener('click', clear);
  }
  function padPixels() {
    var pad = $('pad'), src = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
    var x0 = pad.width, y0 = pad.height, x1 = -1, y1 = -1;
    for (var y = 0; y < pad.height; y++) for (var x = 0; x < pad.width; x++) if (src[(y * pad.width + x) * 4] > 0) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    var out = document.createElement('canvas'); out.width = W; out.height = H;
    var o = out.getContext('2d'); o.fillStyle = '#000'; o.fillRect(0, 0, W, H);
    if (x1 >= 0) {
      var bw = x1 - x0 + 1, bh = y1 - y0 + 1, scale = Math.min(W, H) * (20 / 28) / Math.max(bw, bh);
      o.imageSmoothingEnabled = true; o.imageSmoothingQuality = 'high';
      o.drawImage(pad, x0, y0, bw, bh, (W - bw * scale) / 2, (H - bh * scale) / 2, bw * scale, bh * scale);
    }
    var d = o.getImageData(0, 0, W, H).data;
    for (var p = 0; p < H * W; p++) for (var c = 0; c < C; c++) pixels[p * C + c] = d[p * 4];
    return pixels;
  }

  function imageAt(images, i) { return images.bytes.subarray(i * H * W * C, (i + 1) * H * W * C); }
  function thumb(images, i) {
    var cv = document.createElement('canvas'); cv.width = W; cv.height = H;
    var ctx = cv.getContext('2d'), img = ctx.createImageData(W, H), px = imageAt(images, i);
    for (var p = 0; p < H * W; p++) {
      for (var k = 0; k < 3; k++) img.data[p * 4 + k] = px[p * C + (C === 3 ? k : 0)];
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    cv.title = 'test image ' + i + ', label ' + model.classNames[images.labels[i]];
    return cv;
  }
  function runAll(images) {
    var results = [], correct = 0, total = 0, thumbs = $('thumbs').children;
    for (var i = 0; i < images.count; i++) {
      var r = predict(imageAt(images, i));
      results.push({ predicted: r.predicted, scores: r.scores, latencyMs: r.latencyMs });
      if (r.predicted === images.labels[i]) correct++;
      total += r.latencyMs;
      thumbs[i].className = r.predicted === images.labels[i] ? 'right' : 'wrong';
    }
    $('summary').textContent = images.count ? correct + ' / ' + images.count + ' bundled test images right; mean latency ' + (total / images.count).toFixed(3) + ' ms per image' : 'no bundled test images';
    state.predictions = results;
    return results;
  }

  loadAssets().then(function (assets) {
    var api = window.cbnnEngine;
    api.provideFile(api.KERNELS_WASM_PATH, assets.wasm);
    model = api.decodeEngineModel(assets.model, cfg.modelFile);
    state.model = { classNames: model.classNames, height: model.input.height, width: model.input.width };
    H = model.input.height; W = model.input.width; C = model.input.layout.channels.length;
    engine = api.createEngine(model, { impl: 'wasm', maxBatch: 1 });
    packer = api.createPlanePacker(model.input.layout, H * W, C);
    packed = new Uint32Array(packer.wordsPerImage);
    scores = new Float32Array(model.classNames.length);
    pixels = new Uint8Array(H * W * C);
    $('size').textContent = assets.model.length.toLocaleString('en-US') + ' B (' + cfg.modelFile + ')';
    $('wasm').textContent = assets.wasm.length.toLocaleString('en-US') + ' B (' + cfg.wasmFile + ')';
    $('shape').textContent = H + ' x ' + W + ' x ' + C + ' (' + model.input.layout.channels.join(', ') + ')';
    $('planes').textContent = model.input.layout.planes.map(function (p) { return p.channel + ':b' + p.bit; }).join(' ');
    $('classes').textContent = model.classNames.join(', ');
    var images = { count: assets.images.count, labels: assets.images.labels, bytes: fromBase64(assets.images.pixels) };
    for (var i = 0; i < images.count; i++) {
      (function (i) {
        var cv = thumb(images, i);
        cv.addEventListener('click', function () { show(predict(imageAt(images, i)), images.labels[i]); });
        $('thumbs').appendChild(cv);
      })(i);
    }
    $('run-all').addEventListener('click', function () { runAll(images); });
    setupPad();
    var all = runAll(images);
    if (all.length) show(predict(imageAt(images, 0)), images.labels[0]);
    $('status').textContent = 'engine ready (WebAssembly, in this page; no network)';
    state.ready = true;
  }).catch(function (e) {
    state.error = String(e && e.stack || e);
    $('error').textContent = 'Could not start: ' + state.error;
    console.error(e);
  });
})();
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

export function webPage(info: PageInfo): string {
  // JSON inside <script type=application/json>: escape '<' so no value can close the element.
  const config = JSON.stringify(info).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(info.title)}</h1><p>A compact binary neural network running in this page on cbnn's WebAssembly engine. Nothing is sent anywhere.</p></header>
<main>
<section><h2>Draw a digit</h2><canvas id="pad" width="280" height="280"></canvas><button id="clear">Clear</button></section>
<section id="result"><h2>Prediction</h2><p id="predicted">–</p><div id="truth"></div><div id="latency"></div><div id="scores"></div></section>
<section><h2>Model</h2><dl>
<dt>model size</dt><dd id="size"></dd><dt>engine</dt><dd id="wasm"></dd><dt>input</dt><dd id="shape"></dd>
<dt>kept planes</dt><dd id="planes"></dd><dt>classes</dt><dd id="classes"></dd></dl>
<p id="status">loading…</p><p id="error"></p></section>
<section id="gallery"><h2>Bundled test images</h2><div id="thumbs"></div><button id="run-all">Predict all</button><p id="summary"></p></section>
</main>
<script type="application/json" id="cbnn-config">${config}</script>
<script src="${escapeHtml(info.engineFile)}"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
