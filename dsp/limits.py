"""The caps that keep every input bounded in memory and time: decoding, canonical audio, edit histories.

No numpy, no Django: the web tier, the worker and the forms read the same numbers.
"""

from __future__ import annotations

# Decoding (dsp.decode).  Channels × rate is capped before a single sample is decoded, so a
# tiny compressed file cannot announce a huge decoded size (8 channels at 600 kHz).
MAX_CHANNELS = 8
MAX_SAMPLE_RATE = 192_000
MAX_SAMPLES_PER_SECOND = 384_000  # channels × rate: stereo at 192 kHz, or 8 channels at 48 kHz
DECODE_BLOCK_FRAMES = 65_536  # frames decoded at a time and mixed to mono as they come
FFMPEG_TIMEOUT_S = 20.0  # CPU seconds ffmpeg may spend on one upload (probe and decode)
# A take recorded for exactly the maximum comes out a little longer from lossy codecs (Opus and
# AAC pad to whole frames): up to this much past the duration cap is trimmed, not refused.
CODEC_PADDING_S = 0.1

# Live mode (live.services): the longest window one POST /api/live/ may carry, checked from the WAV's
# header before a sample is decoded (the page sends 1 s).
LIVE_WINDOW_MAX_S = 1.5

# Canonical audio and every edit's result: finite and not absurdly loud, so an analysis can
# always take its logarithms (a float WAV may hold 1.5e38, which overflows the spectrogram).
MAX_PEAK_DBFS = 60.0
MAX_PEAK = 10.0 ** (MAX_PEAK_DBFS / 20.0)

# Edit histories (experiments.services.recordings): what one edit may add, what a history may
# hold, and how long a history may be to replay inside a web request rather than on a worker.
MAX_STEPS_PER_EDIT = 20
MAX_HISTORY_STEPS = 60
INLINE_REPLAY_MAX_STEPS = 10
