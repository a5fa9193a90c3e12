"""Sequence tagging (synced many-to-many), issue #24: being built. So far its metrics
(:mod:`rnnkit.tasks.tag.metrics`); the data layer is :mod:`rnnkit.data.tags` and
:mod:`rnnkit.data.tagged`, the CRF :mod:`rnnkit.models.crf`."""
