// d-DeVIS recorder: AudioWorklet processor that captures an exact number of mono frames.
// Loaded by recorder.js with audioWorklet.addModule(); runs in the AudioWorkletGlobalScope.
//
// Messages in (port):  {type: "start", frames}  begin a take of exactly `frames` frames
//                      {type: "stop"}           end the take early (keeps what was captured)
//                      {type: "cancel"}         drop the take, stop streaming
//                      {type: "stream", frames} send every `frames` frames as they come (live mode)
// Messages out (port): {type: "progress", frames, total, peak}
//                      {type: "done", samples: Float32Array, sampleRate, peak}
//                      {type: "chunk", samples: Float32Array, sampleRate}   while streaming

class DdevisRecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = null;
    this.pos = 0;
    this.total = 0;
    this.peak = 0;
    this.recording = false;
    this.sinceReport = 0;
    this.reportEvery = Math.round(sampleRate / 30); // ~30 progress messages a second
    this.chunk = null; // streaming: the chunk being filled
    this.chunkPos = 0;
    this.port.onmessage = (event) => {
      const msg = event.data || {};
      if (msg.type === "start") {
        this.total = Math.max(1, Math.floor(msg.frames));
        this.buffer = new Float32Array(this.total);
        this.pos = 0;
        this.peak = 0;
        this.sinceReport = 0;
        this.recording = true;
      } else if (msg.type === "stop") {
        if (this.recording) this.finish();
      } else if (msg.type === "cancel") {
        this.recording = false;
        this.buffer = null;
        this.chunk = null;
      } else if (msg.type === "stream") {
        this.chunk = new Float32Array(Math.max(128, Math.floor(msg.frames || 1024)));
        this.chunkPos = 0;
      }
    };
  }

  finish() {
    this.recording = false;
    const samples = this.pos === this.total ? this.buffer : this.buffer.slice(0, this.pos);
    this.buffer = null;
    this.port.postMessage({ type: "done", samples, sampleRate, peak: this.peak }, [samples.buffer]);
  }

  stream(channels) {
    const frames = channels.length ? channels[0].length : 128;
    const nch = channels.length;
    for (let i = 0; i < frames; i++) {
      let v = 0;
      for (let c = 0; c < nch; c++) v += channels[c][i];
      if (nch > 1) v /= nch;
      this.chunk[this.chunkPos++] = v;
      if (this.chunkPos === this.chunk.length) {
        const full = this.chunk;
        this.chunk = new Float32Array(full.length);
        this.chunkPos = 0;
        this.port.postMessage({ type: "chunk", samples: full, sampleRate }, [full.buffer]);
      }
    }
  }

  process(inputs) {
    if (this.chunk) this.stream(inputs[0] || []);
    if (!this.recording) return true;
    const channels = inputs[0] || [];
    const frames = channels.length ? channels[0].length : 128; // no input yet: count silence
    const n = Math.min(frames, this.total - this.pos);
    const out = this.buffer;
    const nch = channels.length;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < nch; c++) v += channels[c][i];
      if (nch > 1) v /= nch;
      out[this.pos + i] = v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
    }
    this.pos += n;
    this.sinceReport += n;
    if (this.pos >= this.total) {
      this.finish();
    } else if (this.sinceReport >= this.reportEvery) {
      this.sinceReport = 0;
      this.port.postMessage({ type: "progress", frames: this.pos, total: this.total, peak: this.peak });
    }
    return true;
  }
}

registerProcessor("ddevis-recorder", DdevisRecorderProcessor);
