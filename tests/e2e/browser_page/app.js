// A minimal frontend on another origin, using only the generated SDK and its realtime helper.
import { client } from '/sdk/gen/client.gen.js';
import { authLogin, authRegister, avatarConfirm, avatarUpload, skillsCreate, skillsUpdate } from '/sdk/gen/sdk.gen.js';
import { Realtime } from '/sdk/realtime.js';

const api = new URLSearchParams(location.search).get('api');
let token = null;
client.setConfig({ baseUrl: api, auth: () => token });
const $ = (id) => document.getElementById(id);

function ok({ data, error, response }) {
  if (error || !response.ok) throw new Error(`${response.status} ${JSON.stringify(error)}`);
  return data;
}

async function register(username, password) {
  return ok(await authRegister({ body: { username, email: `${username}@example.com`, password } }));
}

async function login(username, password) {
  token = ok(await authLogin({ body: { username, password } })).access_token;
  $('who').textContent = username;
}

function listen() {
  return new Promise((resolve) => {
    const live = new Realtime({
      onStatus: (status) => {
        $('status').textContent = status;
        if (status === 'open') resolve(live.connectionId);
      },
      onChange: (change) => {
        if (change.entity !== 'skill' || !change.data) return;
        $('skill').textContent = `${change.data.name} ${change.data.level}`;
        document.body.dataset.level = String(change.data.level);
      },
    });
    live.start();
  });
}

async function createSkill(name, category, level) {
  return ok(await skillsCreate({ body: { name, category, level } }));
}

async function setLevel(id, level, note) {
  return ok(await skillsUpdate({ path: { skill_id: id }, body: { level, note } }));
}

async function loaded(img, src) {
  img.src = src;
  await img.decode();
  return { src: img.currentSrc, width: img.naturalWidth };
}

async function uploadAvatar() {
  const canvas = Object.assign(document.createElement('canvas'), { width: 96, height: 96 });
  const paint = canvas.getContext('2d');
  paint.fillStyle = '#3b82f6';
  paint.fillRect(0, 0, 96, 96);
  paint.fillStyle = '#fff';
  paint.fillRect(24, 24, 48, 48);
  const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const upload = ok(await avatarUpload({ body: { content_type: 'image/png', content_length: png.size } }));
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', png, 'avatar.png');
  const stored = await fetch(upload.url, { method: upload.method, body: form });
  if (!stored.ok) throw new Error(`upload ${stored.status}: ${await stored.text()}`);
  const { avatar_url } = ok(await avatarConfirm({ body: { key: upload.key } }));
  return loaded($('avatar'), avatar_url);
}

async function showCard(username) {
  return loaded($('card'), `${api}/api/v1/users/${encodeURIComponent(username)}/card.svg`);
}

window.app = { register, login, listen, createSkill, setLevel, uploadAvatar, showCard };
document.body.dataset.ready = 'true';
