"""The job skeleton, written once: every job's declaration (:class:`Job`), training
(:func:`train`), loading with the run-kind check (:func:`load`), resuming, presets, the
train summary and the predictor interface.

``tasks/<job>/`` packages declare only what is particular to them; they import this package
and the layers below, never each other.
"""

from rnnkit.tasks.common.job import FitPlan, Job, Notify, Prepared
from rnnkit.tasks.common.predictor import Predictor
from rnnkit.tasks.common.presets import preset_config, preset_dict
from rnnkit.tasks.common.registry import job_named, kinds, register
from rnnkit.tasks.common.resume import RESUMABLE_CHANGES, resume_config
from rnnkit.tasks.common.runs import WrongKindError, load, open_run, read_config
from rnnkit.tasks.common.summary import SUMMARY_KEYS, describe_summary, train_summary
from rnnkit.tasks.common.trainer import train

__all__ = [
    "RESUMABLE_CHANGES",
    "SUMMARY_KEYS",
    "FitPlan",
    "Job",
    "Notify",
    "Predictor",
    "Prepared",
    "WrongKindError",
    "describe_summary",
    "job_named",
    "kinds",
    "load",
    "open_run",
    "preset_config",
    "preset_dict",
    "read_config",
    "register",
    "resume_config",
    "train",
    "train_summary",
]
