// The annotation page: show a pair, post each verdict the moment it is
// given, and move on only once the server says it is committed, so a closed
// tab loses nothing and a failed save is never shown as saved.
'use strict';

const $ = (id) => document.getElementById(id);
const nameInput = $('name');
const pairView = $('pair');
const storageKey = 'facereward.judge';

// Keys by KeyboardEvent.key, letters in lower case.
const keyChoices = {
  ArrowLeft: 'shown-left', a: 'shown-left',
  ArrowRight: 'shown-right', l: 'shown-right',
  t: 'tie', s: 'skip',
};

let judge = '';     // the annotator, once they pressed Start
let current = null; // the pair on screen, as /api/next gave it; null while none
let busy = false;   // a request is in flight: a second key must not judge twice

function setStatus(text, kind) {
  $('status').textContent = text;
  $('status').className = kind || '';
}

function showCounts(judged, total) {
  if (judged >= 0 && total >= 0) $('counter').textContent = `done ${judged} of ${total}`;
}

// request resolves with the JSON body of a 2xx answer and throws the
// server's error message otherwise.
async function request(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's error page, say): reported below.
  }
  if (!res.ok) throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  if (!body) throw new Error(`${url} did not answer JSON`);
  return body;
}

// newVerdictID draws the id a verdict is sent with: 128 random bits in
// hex. crypto.randomUUID would do, but browsers offer it only on https and
// localhost, and annotators may reach this server over plain http.
function newVerdictID() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function loadNext() {
  busy = true;
  current = null;
  try {
    await show(await request('/api/next?judge=' + encodeURIComponent(judge)));
  } catch (err) {
    setStatus(`could not load the next pair: ${err.message} (reload the page to retry)`, 'error');
  }
  busy = false;
}

async function show(next) {
  showCounts(next.judged, next.total);
  $('finished').hidden = !next.done;
  pairView.hidden = next.done;
  if (next.done) return;
  const images = [[$('lq'), next.lq], [$('shown-left'), next.shown[0]], [$('shown-right'), next.shown[1]]];
  for (const [img, src] of images) img.src = src;
  // Wait for the new faces, so no verdict is given while the last pair's
  // are still on screen.
  const loaded = await Promise.allSettled(images.map(([img]) => img.decode()));
  if (loaded.some((r) => r.status === 'rejected')) {
    setStatus('an image did not load: press S to skip this pair', 'error');
  }
  pairView.dataset.pair = next.pair;
  pairView.dataset.swapped = next.swapped;
  // One id per pair shown, sent again by every retry: a verdict whose
  // answer was lost (the server died after saving it) is stored once.
  next.verdictID = newVerdictID();
  current = next;
}

async function give(choice) {
  if (!current || busy) return;
  busy = true;
  setStatus('saving…');
  try {
    const saved = await request('/api/verdict', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: current.verdictID, pair: current.pair, judge, choice, swapped: current.swapped }),
    });
    if (saved.saved !== true) throw new Error('the server did not confirm the save');
    showCounts(saved.judged, saved.total);
  } catch (err) {
    // The pair stays on screen: the same key again retries.
    setStatus(`not saved: ${err.message}`, 'error');
    busy = false;
    return;
  }
  setStatus('saved', 'ok');
  await loadNext();
}

function start(name) {
  judge = name;
  localStorage.setItem(storageKey, name);
  $('hint').hidden = true;
  nameInput.blur(); // so the judging keys work at once
  loadNext();
}

$('who').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  if (name && !busy) start(name);
});

for (const button of pairView.querySelectorAll('[data-choice]')) {
  button.addEventListener('click', () => give(button.dataset.choice));
}

document.addEventListener('keydown', (e) => {
  if (e.target.closest('input') || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  const choice = keyChoices[e.key.length === 1 ? e.key.toLowerCase() : e.key];
  if (!choice) return;
  e.preventDefault();
  give(choice);
});

nameInput.value = localStorage.getItem(storageKey) || '';
if (nameInput.value) start(nameInput.value);
