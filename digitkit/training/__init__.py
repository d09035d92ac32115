"""The pieces behind :func:`digitkit.train.fit`, one job per module.

``options`` (typed options, checked before TensorFlow loads) -> ``config`` (recipe,
overrides, seed; what a resume may continue) -> ``data`` (splits and the seeded tf.data
pipeline) -> ``runtime`` (threads, seeds, devices via ``distribute``, the model compiled by
``compile``'s ``compile_for`` with ``speed``'s settings) -> ``fit`` (the epoch loop, with
``callbacks``, ``best``, ``history``, ``state`` and ``lock``) -> ``rundir`` (the files of a
run) -> ``result``. ``progress`` is the interface a renderer implements.
"""
