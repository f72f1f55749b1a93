"""The scikit-learn side of bench/ml (`predict`): trains LogisticRegression
(lbfgs, default C = 1, after mean imputation with missing indicators and
StandardScaler, as Kairos does internally) and HistGradientBoostingClassifier
(defaults; missing values handled natively) on the train rows of DATA, scores
the test rows, and prints JSON with hold-out AUC, log loss and training
seconds (the fastest of REPEAT fits). Given Kairos's hold-out scores it also
computes their AUC and log loss with scikit-learn, as a check of Kairos's
metrics.

usage: predict_sklearn.py DATA.csv KAIROS_SCORES.csv REPEAT
DATA.csv: columns split (train/test), converted (0/1), then the features
(empty = missing). KAIROS_SCORES.csv: one probability per test row, in order.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_info
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def timed_fit(make, x, y, repeat):
    best, model = float("inf"), None
    for _ in range(repeat):
        m = make()
        start = time.perf_counter()
        m.fit(x, y)
        best = min(best, time.perf_counter() - start)
        model = m
    return model, best


def main():
    data_path, scores_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = pd.read_csv(data_path)
    train, test = data[data.split == "train"], data[data.split == "test"]
    features = [c for c in data.columns if c not in ("split", "converted")]
    x_train, y_train = train[features].to_numpy(dtype=np.float64), train.converted.to_numpy()
    x_test, y_test = test[features].to_numpy(dtype=np.float64), test.converted.to_numpy()

    out = {
        "sklearn": sklearn.__version__,
        "train_rows": len(train),
        "test_rows": len(test),
        "threadpools": [f"{p['internal_api']} x{p['num_threads']}" for p in threadpool_info()],
    }
    makers = {
        "logistic_regression": lambda: make_pipeline(
            SimpleImputer(strategy="mean", add_indicator=True), StandardScaler(), LogisticRegression()
        ),
        "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(random_state=0),
    }
    models = {}
    for name, make in makers.items():
        models[name], seconds = timed_fit(make, x_train, y_train, repeat)
        p = models[name].predict_proba(x_test)[:, 1]
        out[name] = {"auc": roc_auc_score(y_test, p), "log_loss": log_loss(y_test, p), "train_seconds": seconds}
    out["logistic_regression"]["iterations"] = int(models["logistic_regression"][-1].n_iter_[0])
    out["hist_gradient_boosting"]["iterations"] = int(models["hist_gradient_boosting"].n_iter_)

    kairos = pd.read_csv(scores_path, header=None)[0].to_numpy()
    out["kairos_checked"] = {"auc": roc_auc_score(y_test, kairos), "log_loss": log_loss(y_test, kairos)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
