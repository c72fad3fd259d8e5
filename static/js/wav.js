// d-DeVIS: audio helpers of the in-browser recorder, so the server needs no ffmpeg.
// resample() brings a take to the model's rate (OfflineAudioContext, low-pass first when
// going down); encodeWav() writes it as mono 16-bit PCM.

/** Resample mono samples to targetRate (low-pass first when going down). */
export async function resample(samples, srcRate, targetRate) {
  if (srcRate === targetRate) return samples;
  let data = samples;
  if (srcRate > targetRate) {
    // Anti-aliasing: 4th-order Butterworth low-pass (two biquads) at 0.45 x target rate.
    const pre = new OfflineAudioContext(1, samples.length, srcRate);
    const buf = pre.createBuffer(1, samples.length, srcRate);
    buf.copyToChannel(samples, 0);
    const src = pre.createBufferSource();
    src.buffer = buf;
    let node = src;
    for (const q of [0.5412, 1.3066]) {
      const f = pre.createBiquadFilter();
      f.type = "lowpass";
      f.frequency.value = 0.45 * targetRate;
      f.Q.value = q;
      node.connect(f);
      node = f;
    }
    node.connect(pre.destination);
    src.start();
    data = (await pre.startRendering()).getChannelData(0);
  }
  const outLength = Math.max(1, Math.round((data.length * targetRate) / srcRate));
  const off = new OfflineAudioContext(1, outLength, targetRate);
  const buf = off.createBuffer(1, data.length, srcRate);
  buf.copyToChannel(data, 0);
  const src = off.createBufferSource();
  src.buffer = buf;
  src.connect(off.destination);
  src.start();
  return (await off.startRendering()).getChannelData(0).slice();
}

/** A mono 16-bit PCM RIFF/WAVE file. */
export function encodeWav(samples, sampleRate) {
  const n = samples.length;
  const view = new DataView(new ArrayBuffer(44 + n * 2));
  const ascii = (offset, s) => {
    for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + n * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, n * 2, true);
  for (let i = 0, o = 44; i < n; i++, o += 2) {
    const s = Math.max(-1, Math.min(1, samples[i] || 0));
    view.setInt16(o, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
  }
  return new Blob([view.buffer], { type: "audio/wav" });
}
