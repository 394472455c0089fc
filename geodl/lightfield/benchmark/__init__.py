"""The HCI 4D light field benchmark in one place: ground-truth definitions
(block median, evaluation masks), metrics, and submissions (write, read,
score)."""
from geodl.lightfield.benchmark import metrics
from geodl.lightfield.benchmark.masks import block_median, evaluation_masks
from geodl.lightfield.benchmark.metrics import NothingToScore, evaluate
from geodl.lightfield.benchmark.submission import (
                                                   check_scene_name,
                                                   evaluate_submission,
                                                   format_table,
                                                   read_submission,
                                                   write_submission,
)

__all__ = ["NothingToScore", "block_median", "check_scene_name", "evaluate", "evaluate_submission",
           "evaluation_masks", "format_table", "metrics", "read_submission",
           "write_submission"]
