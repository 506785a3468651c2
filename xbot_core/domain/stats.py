"""Experiment statistics: the public API the notebooks, the API and the learning code import.

Inputs are sufficient statistics (stats_samples), comparisons follow GrowthBook's gbstats
(stats_compare), SRM in stats_srm, multiple-comparison adjustments in stats_multiple, power and MDE
in stats_power, the randomization test and t-based chance to win for small n in stats_smalln,
covariate adjustment with robust errors in stats_adjusted.
"""

from xbot_core.domain.stats_adjusted import AdjustedEffect, adjusted_effect
from xbot_core.domain.stats_compare import (
    BASELINE_ZERO_MESSAGE,
    NOT_ENOUGH_DATA_MESSAGE,
    STATUS_BASELINE_ZERO,
    STATUS_NOT_ENOUGH_DATA,
    STATUS_OK,
    STATUS_ZERO_VARIANCE,
    ZERO_VARIANCE_MESSAGE,
    Comparison,
    ComparisonArrays,
    SequentialArrays,
    SequentialConfig,
    SequentialResult,
    compare,
    compare_arrays,
    sequential_arrays,
    sequential_ci,
    sequential_rho,
)
from xbot_core.domain.stats_multiple import benjamini_hochberg, holm
from xbot_core.domain.stats_power import PowerSummary, mde, posts_needed, power
from xbot_core.domain.stats_power import summarise as summarise_power
from xbot_core.domain.stats_samples import (
    ArmStats,
    ProportionStats,
    RatioStats,
    SampleStats,
    WeightedSampleStats,
    moments,
)
from xbot_core.domain.stats_smalln import (
    RandomizationConfig,
    RandomizationResult,
    TChanceToWin,
    randomization_test,
    t_chance_to_win,
    t_chance_to_win_arrays,
)
from xbot_core.domain.stats_srm import (
    METHOD_CHI2,
    METHOD_CHI2_FALLBACK,
    METHOD_EXACT,
    METHOD_NO_DATA,
    SrmConfig,
    SrmResult,
    srm_pvalue,
    srm_test,
)

__all__ = [
    "BASELINE_ZERO_MESSAGE",
    "METHOD_CHI2",
    "METHOD_CHI2_FALLBACK",
    "METHOD_EXACT",
    "METHOD_NO_DATA",
    "NOT_ENOUGH_DATA_MESSAGE",
    "STATUS_BASELINE_ZERO",
    "STATUS_NOT_ENOUGH_DATA",
    "STATUS_OK",
    "STATUS_ZERO_VARIANCE",
    "ZERO_VARIANCE_MESSAGE",
    "AdjustedEffect",
    "ArmStats",
    "Comparison",
    "ComparisonArrays",
    "PowerSummary",
    "ProportionStats",
    "RandomizationConfig",
    "RandomizationResult",
    "RatioStats",
    "SampleStats",
    "SequentialArrays",
    "SequentialConfig",
    "SequentialResult",
    "SrmConfig",
    "SrmResult",
    "TChanceToWin",
    "WeightedSampleStats",
    "adjusted_effect",
    "benjamini_hochberg",
    "compare",
    "compare_arrays",
    "holm",
    "mde",
    "moments",
    "posts_needed",
    "power",
    "randomization_test",
    "sequential_arrays",
    "sequential_ci",
    "sequential_rho",
    "srm_pvalue",
    "srm_test",
    "summarise_power",
    "t_chance_to_win",
    "t_chance_to_win_arrays",
]
