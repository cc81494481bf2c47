// golden_ssd.js writes the parity fixture of facenet's SSD face detector:
// it runs face-api.js@0.22.2's ssdMobilenetv1 on @tensorflow/tfjs-core@1.7.0's
// pure-JS CPU backend (no native code) with the weights of
// @vladmandic/face-api@1.7.15.
//
//   cd tools/faceapi && npm install --no-package-lock
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz -C /tmp
//   node golden_ssd.js /tmp/package/model ../../testdata/faceapi \
//       ../../testdata/faceapi/ssd_sample1_640.png ../../testdata/faceapi/ssd_sample5_384.png \
//       ../../testdata/faces/astronaut_256.png
//
// The photos are PNG (made by `go run ./tools/faceapi/ssdinputs` from the
// committed JPEGs) so that Go reads the same pixels. Each goes in as an
// int32 [H,W,3] tensor, which face-api pads at the right or bottom to a
// square and resizes to 512×512 itself, so the fixture covers the input
// preparation as well as the net, the box decoding and non-max suppression.
//
// Per photo it records face-api's detections at its default minConfidence
// (0.5) and at 0.1 (more and weaker boxes), and the decoded box and score of
// every prior box scoring above 0.05 before suppression, which checks the
// net's outputs directly.
'use strict';

const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const faceapi = require('face-api.js');

const tf = faceapi.tf;

// loadNet and readPNG are golden.js's.
async function loadNet(net, modelDir, name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`)));
  const specs = [];
  const bufs = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const all = Buffer.concat(bufs);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  net.loadFromWeightMap(tf.io.decodeWeights(ab, specs));
}

function readPNG(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const rgb = new Int32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = png.data[4 * i + c];
  }
  return tf.tensor3d(rgb, [png.height, png.width, 3], 'int32');
}

function boxes(dets) {
  return dets.map((d) => ({ x: d.box.x, y: d.box.y, w: d.box.width, h: d.box.height, score: d.score }));
}

async function main() {
  const [modelDir, outDir, ...photos] = process.argv.slice(2);
  if (photos.length === 0) throw new Error('usage: node golden_ssd.js MODEL_DIR OUT_DIR PHOTO.png...');
  await tf.setBackend('cpu');
  const net = faceapi.nets.ssdMobilenetv1;
  await loadNet(net, modelDir, 'ssd_mobilenetv1_model');

  const out = {
    reference: 'face-api.js@0.22.2 ssdMobilenetv1, @tensorflow/tfjs-core@1.7.0 cpu backend, weights @vladmandic/face-api@1.7.15',
    box_unit: 'pixels of the photo (x, y, w, h)',
    prior_format: '[index, score, ymin, xmin, ymax, xmax], the box as fractions of the 512x512 input',
    photos: [],
  };
  for (const file of photos) {
    const img = readPNG(file);
    const [h, w] = img.shape;
    const dets = await net.locateFaces(img, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }));
    const low = await net.locateFaces(img, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.1 }));

    const input = await faceapi.toNetInput(img);
    const { boxes: rawBoxes, scores: rawScores } = net.forwardInput(input);
    const b = rawBoxes[0].arraySync();
    const s = Array.from(rawScores[0].dataSync());
    const priors = [];
    s.forEach((score, i) => { if (score > 0.05) priors.push([i, score, ...b[i]]); });

    out.photos.push({
      file: path.relative(outDir, file),
      width: w,
      height: h,
      detections: boxes(dets),
      detections_min_confidence_0_1: boxes(low),
      score_sum: s.reduce((a, v) => a + v, 0),
      priors,
    });
    console.log(path.basename(file), `${w}x${h}`, dets.length, 'faces,', low.length, 'at 0.1,', priors.length, 'priors > 0.05');
  }
  // One prior per line keeps the file short and its diffs readable.
  const text = JSON.stringify(out, (k, v) => (k === 'priors' && Array.isArray(v) ? v.map((p) => JSON.stringify(p)) : v), 1)
    .replace(/"(\[[^"]*\])"/g, '$1');
  fs.writeFileSync(path.join(outDir, 'ssd_golden.json'), text + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
