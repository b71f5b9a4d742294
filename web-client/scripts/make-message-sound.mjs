// Writes src/assets/message.wav: the "new message" sound, made here from two sine tones (no
// recorded or third-party asset). Run: node web-client/scripts/make-message-sound.mjs
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const RATE = 22050;
/** Two short notes, a fifth apart (A5, E6), each with a soft attack and an exponential decay. */
const NOTES = [
  { freq: 880, start: 0, length: 0.12 },
  { freq: 1318.5, start: 0.09, length: 0.16 },
];
const total = Math.ceil(RATE * 0.26);
const samples = new Float64Array(total);
for (const n of NOTES) {
  const from = Math.floor(n.start * RATE);
  const len = Math.floor(n.length * RATE);
  for (let i = 0; i < len && from + i < total; i++) {
    const t = i / RATE;
    const attack = Math.min(1, t / 0.005);
    const decay = Math.exp((-5 * t) / n.length);
    samples[from + i] += 0.35 * attack * decay * Math.sin(2 * Math.PI * n.freq * t);
  }
}
const data = Buffer.alloc(total * 2);
for (let i = 0; i < total; i++) {
  const v = Math.max(-1, Math.min(1, samples[i]));
  data.writeInt16LE(Math.round(v * 32767), i * 2);
}
const header = Buffer.alloc(44);
header.write('RIFF', 0);
header.writeUInt32LE(36 + data.length, 4);
header.write('WAVE', 8);
header.write('fmt ', 12);
header.writeUInt32LE(16, 16); // PCM chunk size
header.writeUInt16LE(1, 20); // PCM
header.writeUInt16LE(1, 22); // mono
header.writeUInt32LE(RATE, 24);
header.writeUInt32LE(RATE * 2, 28); // bytes per second
header.writeUInt16LE(2, 32); // block align
header.writeUInt16LE(16, 34); // bits per sample
header.write('data', 36);
header.writeUInt32LE(data.length, 40);
const out = new URL('../src/assets/message.wav', import.meta.url);
writeFileSync(out, Buffer.concat([header, data]));
console.log(`wrote ${out.pathname} (${44 + data.length} bytes)`);
