// golden.js writes the parity fixtures of package upscale: it runs an
// UpscalerJS ESRGAN model as a TF.js layers model on
// @tensorflow/tfjs-backend-cpu@4.11.0 (pure JS, no native code), the
// version the @upscalerjs/esrgan-*@1.0.0 packages were built against.
//
//   cd tools/esrgan && npm install --no-package-lock
//   npm pack @upscalerjs/esrgan-medium@1.0.0 && mkdir -p /tmp/medium && tar xzf upscalerjs-esrgan-medium-1.0.0.tgz -C /tmp/medium
//   node golden.js /tmp/medium/package/models/x2 esrgan-medium-x2 ../../testdata/faces/astronaut_256.png ../../testdata/esrgan
//
// Inputs: two crops of the public-domain astronaut photo, 32×32 at the
// mission patch (x=64, y=172: lettering and sharp edges) and 20 high by 28
// wide at the rocket (x=190, y=100: non-square, so that a height/width
// mix-up shows), written as PNG; the model then reads those PNGs back, so
// the Go test feeds the identical pixels. Each case's raw model output
// (before UpscalerJS clips it) is written as little-endian float32, NHWC.
'use strict';

const fs = require('fs');
const path = require('path');
const { PNG } = require('pngjs');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');

// UpscalerJS's two custom layers (packages/shared/src/esrgan/esrgan.ts of
// the model packages): RRDN's residual scaling and its pixel shuffle,
// tf.depthToSpace in NHWC.
class MultiplyBeta extends tfl.layers.Layer {
  constructor() { super({}); this.beta = 0.2; }
  call(inputs) { return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.beta); }
  static get className() { return 'MultiplyBeta'; }
}
function pixelShuffle(scale) {
  return class extends tfl.layers.Layer {
    constructor() { super({}); this.scale = scale; }
    computeOutputShape(s) { return [s[0], s[1], s[2], 3]; }
    call(inputs) { return tf.depthToSpace(Array.isArray(inputs) ? inputs[0] : inputs, this.scale, 'NHWC'); }
    static get className() { return `PixelShuffle${scale}x`; }
  };
}

async function loadModel(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
  const specs = [];
  const bufs = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = { load: async () => ({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format }) };
  return { model: await tfl.loadLayersModel(handler), layers: json.modelTopology.model_config.config.layers };
}

function readPNG(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const rgb = new Float32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = png.data[4 * i + c];
  }
  return { w: png.width, h: png.height, rgb };
}

function writeCrop(file, img, x, y, w, h) {
  const png = new PNG({ width: w, height: h });
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      for (let k = 0; k < 3; k++) png.data[4 * (r * w + c) + k] = img.rgb[3 * ((y + r) * img.w + x + c) + k];
      png.data[4 * (r * w + c) + 3] = 255;
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 2 }));
}

async function main() {
  const [modelDir, name, photo, outDir] = process.argv.slice(2);
  if (!outDir) throw new Error('usage: node golden.js MODEL_DIR NAME PHOTO_PNG OUT_DIR');
  await tf.setBackend('cpu');
  const scale = Number(/x(\d+)\/?$/.exec(modelDir)[1]);
  tf.serialization.registerClass(MultiplyBeta);
  tf.serialization.registerClass(pixelShuffle(scale));
  const { model, layers } = await loadModel(modelDir);
  // UpscalerJS feeds idealo's RDN models 0–255 pixels and its RRDN models
  // 0–1 (getESRGANModelDefinition: inputRange by architecture).
  const rrdn = layers.some((l) => l.name === 'Pre_blocks_conv');
  const range = rrdn ? 1 : 255;
  fs.mkdirSync(outDir, { recursive: true });
  const img = readPNG(photo);
  const cases = [];
  for (const [x, y, w, h] of [[64, 172, 32, 32], [190, 100, 28, 20]]) {
    const input = `astronaut_x${x}_y${y}_${w}x${h}.png`;
    writeCrop(path.join(outDir, input), img, x, y, w, h);
    const crop = readPNG(path.join(outDir, input));
    const t = tf.mul(tf.tensor4d(crop.rgb, [1, h, w, 3]), range / 255);
    const out = model.predict(t);
    const v = out.dataSync();
    const file = `${name}_${w}x${h}.f32`;
    fs.writeFileSync(path.join(outDir, file), Buffer.from(new Float32Array(v).buffer));
    let lo = Infinity, hi = -Infinity;
    for (const e of v) { lo = Math.min(lo, e); hi = Math.max(hi, e); }
    cases.push({ input, output: file, shape: out.shape.slice(1) });
    console.log(input, '->', out.shape, 'range', lo.toFixed(4), hi.toFixed(4));
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(modelDir, '..', '..', 'package.json')));
  const golden = {
    reference: '@tensorflow/tfjs-layers@4.11.0 on @tensorflow/tfjs-backend-cpu@4.11.0',
    weights: `${pkg.name}@${pkg.version} models/x${scale}/model.json`,
    model: name,
    input: `the PNG bytes (0-255) scaled to 0-${range}`,
    output: `raw model output (not clipped), little-endian float32, NHWC, in 0-${range} units`,
    cases,
  };
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(golden, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
