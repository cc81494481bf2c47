// golden.js writes the parity fixtures of package facenet: it runs the
// reference face-api.js@0.22.2 nets on @tensorflow/tfjs-core@1.7.0's pure-JS
// CPU backend (no native code) with the weights of @vladmandic/face-api@1.7.15.
//
//   cd tools/faceapi && npm install --no-package-lock
//   npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz -C /tmp
//   node golden.js /tmp/package/model ../../../shared/data/ffhq128 /path/to/astronaut.png ../../testdata/faceapi
//
// Inputs: dev-val FFHQ faces 04800–04805 (128×128), cropped to the box
// x=20, y=28, w=h=88 (the project's face box, see the notes), and the
// public-domain astronaut (skimage/data/astronaut.png) cropped to
// x=150, y=30, w=h=150 around her face. Each crop is resized to exactly
// 112×112 (landmarks) and 150×150 (descriptor) with tfjs-core's
// resizeBilinear (alignCorners=false, src = dst·in/out), rounded to bytes
// and written as PNG; the nets then read those PNGs back, so the Go test
// feeds the identical pixels and no padding or resizing happens in either
// implementation: the fixture checks the networks alone.
'use strict';

const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const faceapi = require('face-api.js');

const tf = faceapi.tf;

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

function writePNG(file, t) {
  const [h, w] = t.shape;
  const v = t.dataSync();
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) png.data[4 * i + c] = v[3 * i + c];
    png.data[4 * i + 3] = 255;
  }
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 2 }));
}

// cropResize cuts the box out of img and resizes it to size×size bytes.
function cropResize(img, x, y, s, size) {
  return tf.tidy(() => {
    const crop = img.slice([y, x, 0], [s, s, 3]).toFloat();
    const r = tf.image.resizeBilinear(crop, [size, size], false);
    return r.round().clipByValue(0, 255).toInt();
  });
}

async function main() {
  const [modelDir, ffhqDir, astronaut, outDir] = process.argv.slice(2);
  if (!outDir) throw new Error('usage: node golden.js MODEL_DIR FFHQ128_DIR ASTRONAUT_PNG OUT_DIR');
  await tf.setBackend('cpu');
  await loadNet(faceapi.nets.faceLandmark68Net, modelDir, 'face_landmark_68_model');
  await loadNet(faceapi.nets.faceRecognitionNet, modelDir, 'face_recognition_model');
  fs.mkdirSync(outDir, { recursive: true });

  const sources = ['04800', '04801', '04802', '04803', '04804', '04805'].map((id) => ({
    name: `ffhq${id}`, file: path.join(ffhqDir, `${id}.png`), box: [20, 28, 88],
  }));
  sources.push({ name: 'astronaut', file: astronaut, box: [150, 30, 150] });

  const faces = [];
  for (const src of sources) {
    const img = readPNG(src.file);
    const [x, y, s] = src.box;
    const lmFile = `${src.name}_112.png`;
    const descFile = `${src.name}_150.png`;
    writePNG(path.join(outDir, lmFile), cropResize(img, x, y, s, 112));
    writePNG(path.join(outDir, descFile), cropResize(img, x, y, s, 150));

    const lmIn = readPNG(path.join(outDir, lmFile));
    const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(lmIn);
    const descIn = readPNG(path.join(outDir, descFile));
    const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(descIn);
    faces.push({
      name: src.name,
      source: path.basename(src.file),
      box: { x, y, size: s },
      landmarks_png: lmFile,
      descriptor_png: descFile,
      landmarks: lm.positions.map((p) => [p.x, p.y]),
      descriptor: Array.from(desc),
    });
    console.log(src.name, 'landmark 0', lm.positions[0].x.toFixed(3), lm.positions[0].y.toFixed(3), 'descriptor[0]', desc[0].toFixed(6));
  }
  // Crop helpers: face-api pads and resizes a non-square crop itself. The
  // crop is rows 10–139 of the astronaut's 150×150 input (150 wide, 130
  // tall: an even difference, where face-api's landmark back-mapping, which
  // subtracts |W−H|/2, is exact), and a synthetic 7×4 image for the
  // padding and resizing alone.
  const ast = readPNG(path.join(outDir, 'astronaut_150.png'));
  const wide = ast.slice([10, 0, 0], [130, 150, 3]);
  const wideLm = await faceapi.nets.faceLandmark68Net.detectLandmarks(wide);
  const wideDesc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(wide);
  const synth = tf.tensor3d(Array.from({ length: 7 * 4 * 3 }, (_, i) => (i * 37) % 251), [7, 4, 3], 'float32');
  const prepared = tf.image.resizeBilinear(faceapi.padToSquare(synth.expandDims(), true), [9, 9], false);
  const crops = {
    source: 'astronaut_150.png', rows: [10, 140],
    landmarks: wideLm.positions.map((p) => [p.x, p.y]),
    descriptor: Array.from(wideDesc),
    synthetic: { shape: [7, 4, 3], value: '(i*37) % 251', size: 9, prepared: Array.from(prepared.dataSync()) },
  };

  const out = {
    reference: 'face-api.js@0.22.2, @tensorflow/tfjs-core@1.7.0 cpu backend, weights @vladmandic/face-api@1.7.15',
    preprocessing: 'RGB bytes; (x - [122.782,117.001,104.298]) / 255 for landmarks, / 256 for the descriptor',
    landmarks_unit: 'pixels of the 112x112 input',
    faces,
    crops,
  };
  fs.writeFileSync(path.join(outDir, 'golden.json'), JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
