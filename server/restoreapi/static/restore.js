// The restore page: send one photo with the chosen settings to
// /api/restore, show the queue while it waits, then the result beside the
// photo as sent (a slider between them), each face's report and a
// download link. Everything the page shows comes from the one JSON
// answer: the server keeps nothing between requests.
'use strict';

const $ = (id) => document.getElementById(id);
const form = $('settings');
const fileInput = $('file');
const drop = $('drop');
// The server's token, when it has one, comes in the page's own address.
const token = new URLSearchParams(location.search).get('token') || '';
const settingNames = ['guidance', 'strength', 'steps', 'seed', 'upscale'];

let photo = null;      // the File to restore
let beforeURL = '';    // its object URL, shown as "before"
let busy = false;

function setStatus(text, kind) {
  $('status').textContent = text;
  $('status').className = kind || '';
}

function showOutputs() {
  for (const out of form.querySelectorAll('output')) {
    out.textContent = Number($(out.htmlFor.value).value).toFixed(2);
  }
}

// The controls start at the server's defaults (restore's) and limits.
async function loadDefaults() {
  try {
    const res = await fetch('/api/version');
    const v = await res.json();
    for (const name of settingNames) $(name).value = v.defaults[name];
    $('steps').max = v.limits.max_steps;
    for (const opt of $('upscale').options) opt.disabled = Number(opt.value) > v.limits.max_upscale;
    $('server').textContent = `facereward ${v.version} · up to ${v.limits.max_faces} faces, ` +
      `${(v.limits.max_pixels / 1e6).toFixed(1)} MP, ${v.limits.workers} at a time`;
  } catch (e) {
    $('server').textContent = 'could not read the server\'s settings: using the page\'s';
  }
  showOutputs();
}

function pick(file) {
  if (!file) return;
  photo = file;
  if (beforeURL) URL.revokeObjectURL(beforeURL);
  beforeURL = URL.createObjectURL(file);
  $('go').disabled = false;
  restore();
}

// Polls the queue while a request waits, as a hint of how long it may be.
function watchQueue() {
  const started = Date.now();
  const tick = async () => {
    const secs = Math.round((Date.now() - started) / 1000);
    try {
      const h = await (await fetch('/api/health')).json();
      $('queue').textContent = `${secs} s · server: ${h.restoring} of ${h.workers} workers busy, ${h.waiting} waiting`;
    } catch {
      $('queue').textContent = `${secs} s`;
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}

async function restore() {
  if (!photo || busy) return;
  busy = true;
  $('go').disabled = true;
  $('result').hidden = true;
  $('progress').hidden = false;
  setStatus(`restoring ${photo.name}…`);
  const stop = watchQueue();
  const body = new FormData();
  body.append('image', photo);
  for (const name of settingNames) body.append(name, $(name).value);
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  try {
    const res = await fetch('/api/restore?format=json', { method: 'POST', body, headers });
    let data = null;
    try {
      data = await res.json();
    } catch {
      // Not JSON (a proxy's error page, say): reported below.
    }
    if (!res.ok) {
      const wait = res.headers.get('Retry-After');
      throw new Error(`${res.status}: ${(data && data.error) || res.statusText}` +
        (wait ? ` (try again in ${wait} s)` : ''));
    }
    show(data);
    setStatus('');
  } catch (e) {
    setStatus('not restored: ' + e.message, 'error');
  } finally {
    stop();
    $('progress').hidden = true;
    busy = false;
    $('go').disabled = !photo;
  }
}

function show(data) {
  $('viewer').style.width = `${data.width}px`;
  $('before').src = beforeURL;
  $('after').src = data.image;
  const link = $('download');
  link.href = data.image;
  link.download = photo.name.replace(/\.[^.]*$/, '') + '_restored.png';
  const restored = data.faces.filter((f) => f.restored).length;
  $('summary').textContent = `${data.faces.length} face${data.faces.length === 1 ? '' : 's'} found, ` +
    `${restored} restored, ${data.faces.length - restored} kept as they were · ` +
    `${data.width}×${data.height} · ${data.seconds.toFixed(1)} s`;
  const rows = data.faces.map((f, i) => {
    const tr = document.createElement('tr');
    const cell = (text, cls) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
      return td;
    };
    const image = (src, alt) => {
      const img = document.createElement('img');
      img.src = src;
      img.alt = alt;
      cell('').append(img);
    };
    cell(String(i + 1));
    image(f.crop, `face ${i + 1} as sent`);
    image(f.restoration, `face ${i + 1} restored`);
    cell(f.detection_score.toFixed(2));
    // A face the sharpness test kept was never scored: its zeros mean "not measured".
    const scored = f.scored;
    cell(scored ? `${f.reward_before.toFixed(2)} → ${f.reward_after.toFixed(2)}` : '—');
    cell(scored ? f.identity.toFixed(3) : '—');
    cell(f.restored ? 'restored' : `kept: ${f.reason}`, f.restored ? 'restored' : 'kept');
    return tr;
  });
  $('faces').tBodies[0].replaceChildren(...rows);
  $('result').hidden = false;
}

$('slider').addEventListener('input', (e) => {
  $('after').style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
});
form.addEventListener('input', showOutputs);
form.addEventListener('submit', (e) => {
  e.preventDefault();
  restore();
});
fileInput.addEventListener('change', () => pick(fileInput.files[0]));
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
}
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  pick(e.dataTransfer.files[0]);
});

loadDefaults();
