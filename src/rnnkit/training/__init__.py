"""Model-agnostic training: the loop, truncated BPTT, clipping, checkpoints, run directories.

``training`` never imports ``data``, ``models`` or ``tasks`` (DESIGN.md): a task hands
:func:`fit` a model, batches and an objective, and gets back the trained model and its history.
"""
