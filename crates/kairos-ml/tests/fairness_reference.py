"""fairlearn's figures for a fairness fixture, as JSON, for the comparison in
fairness_reference.rs: per group (MetricFrame over selection_rate,
true_positive_rate, false_positive_rate and count), then
demographic_parity_difference, demographic_parity_ratio and
equalized_odds_difference over the whole fixture.

usage: fairness_reference.py FIXTURE.csv   (columns y_true, y_pred, group)
needs: python3 -m pip install fairlearn==0.15.0 scikit-learn==1.9.1
"""

import json
import sys

try:
    import fairlearn
    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        demographic_parity_ratio,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
except ImportError as e:
    sys.exit(f"{e}: python3 -m pip install fairlearn==0.15.0 scikit-learn==1.9.1")


def main():
    df = pd.read_csv(sys.argv[1], dtype={"group": str})
    y_true, y_pred, group = df.y_true, df.y_pred, df.group
    frame = MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=group,
    )
    groups = {
        str(name): {metric: float(value) for metric, value in row.items()}
        for name, row in frame.by_group.iterrows()
    }
    print(
        json.dumps(
            {
                "fairlearn": fairlearn.__version__,
                "groups": groups,
                "demographic_parity_difference": demographic_parity_difference(
                    y_true, y_pred, sensitive_features=group
                ),
                "demographic_parity_ratio": demographic_parity_ratio(y_true, y_pred, sensitive_features=group),
                "equalized_odds_difference": equalized_odds_difference(y_true, y_pred, sensitive_features=group),
            }
        )
    )


if __name__ == "__main__":
    main()
