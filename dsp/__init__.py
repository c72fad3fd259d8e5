"""Pure signal processing, shared by the web tier and the worker: no Django, no TensorFlow.

- :mod:`dsp.decode`: audio files to samples (containers checked by content), mono, resampling
- :mod:`dsp.canonical`: a recording's canonical float32 WAV, encoded bit for bit
- :mod:`dsp.operations` and :mod:`dsp.operation_specs`: the edits a student makes, and their bounds
- :mod:`dsp.params`, :mod:`dsp.stft`, :mod:`dsp.features`: what the network hears
- :mod:`dsp.sonification`: a filter's output turned back into sound
- :mod:`dsp.errors`: ``AudioError`` and ``OperationError``, whose messages are for end users
"""
