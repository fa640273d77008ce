// Draws Tokentray's icons with nothing but Node (zlib + a hand-written PNG
// encoder), so the repository carries no binary design files and the icons can
// be regenerated anywhere: `node scripts/make-icons.mjs`. The PNGs it writes are
// committed; electron-builder derives the Windows .ico and macOS .icns from build/icon.png.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** RGBA pixels (size*size*4, straight alpha) to a PNG file. */
export function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y += 1) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Renders a shape function (unit coordinates 0..1 -> [r,g,b,a] or null) with
 * 4x4 supersampling, so edges are smooth even at 16 px.
 */
function render(size, shade) {
  const out = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy += 1) {
        for (let sx = 0; sx < n; sx += 1) {
          const c = shade((x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size);
          if (!c) continue;
          const alpha = c[3] / 255;
          r += c[0] * alpha;
          g += c[1] * alpha;
          b += c[2] * alpha;
          a += alpha;
        }
      }
      const i = (y * size + x) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
      }
      out[i + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return out;
}

const WHITE = [255, 255, 255, 255];

/** A coin with a keyhole: the token. Tray icons are the coin in the state's colour. */
function trayShade(color) {
  return (x, y) => {
    const dx = x - 0.5;
    const dy = y - 0.5;
    const d = Math.hypot(dx, dy);
    if (d > 0.47) return null;
    const inKeyhole = Math.hypot(dx, dy + 0.08) < 0.13 || (Math.abs(dx) < 0.06 && dy > -0.08 && dy < 0.24);
    return inKeyhole ? WHITE : color;
  };
}

const STATES = {
  ok: [46, 157, 91, 255],
  expiring: [224, 161, 0, 255],
  reconnect: [214, 69, 69, 255],
  offline: [128, 134, 144, 255],
};

function roundedSquare(x, y, inset, radius) {
  const cx = Math.min(Math.max(x, inset + radius), 1 - inset - radius);
  const cy = Math.min(Math.max(y, inset + radius), 1 - inset - radius);
  return Math.hypot(x - cx, y - cy) <= radius && x >= inset && x <= 1 - inset && y >= inset && y <= 1 - inset;
}

/** App icon: a key over a blue rounded square (gradient top to bottom). */
function appShade(x, y) {
  if (!roundedSquare(x, y, 0.06, 0.2)) return null;
  const top = [52, 120, 246];
  const bottom = [28, 70, 170];
  const bg = top.map((t, i) => Math.round(t + (bottom[i] - t) * y)).concat(255);
  const ring = Math.hypot(x - 0.36, y - 0.5);
  if (ring < 0.17 && ring > 0.085) return WHITE;
  const shaft = x > 0.5 && x < 0.8 && Math.abs(y - 0.5) < 0.045;
  const tooth1 = x > 0.66 && x < 0.71 && y >= 0.5 && y < 0.62;
  const tooth2 = x > 0.75 && x < 0.8 && y >= 0.5 && y < 0.66;
  return shaft || tooth1 || tooth2 ? WHITE : bg;
}

mkdirSync('build/icons', { recursive: true });
for (const [state, color] of Object.entries(STATES)) {
  writeFileSync(`build/icons/tray-${state}.png`, encodePng(16, render(16, trayShade(color))));
  writeFileSync(`build/icons/tray-${state}@2x.png`, encodePng(32, render(32, trayShade(color))));
}
writeFileSync('build/icon.png', encodePng(512, render(512, appShade)));
console.log('make-icons: wrote build/icon.png and build/icons/tray-{ok,expiring,reconnect,offline}{,@2x}.png');
