"""A local ``evaluate`` metric for the framing labels (Hub metrics cannot be downloaded offline).

Computes, with scikit-learn: accuracy, macro-F1, per-class precision / recall / F1
and support, and the confusion matrix (rows = true label, columns = predicted),
over a fixed label set so that a class absent from a small sample still counts.
Load it with ``evaluate.load(path_to_this_file)``.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

_DESCRIPTION = "Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."
_KWARGS_DESCRIPTION = """
Args:
    predictions: predicted class ids.
    references: true class ids.
    labels: the class ids to report, in order (default: 0, 1, 2).
    label_names: names for the per-class entries (default: the ids as strings).
Returns:
    accuracy, macro_f1, per_class {name: {precision, recall, f1, support}}, confusion_matrix.
"""


class FramingClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int32"),
                                        "references": datasets.Value("int32")}),
        )

    def _compute(self, predictions, references, labels=None, label_names=None):
        labels = list(labels) if labels is not None else [0, 1, 2]
        names = list(label_names) if label_names is not None else [str(x) for x in labels]
        y_true, y_pred = np.asarray(references), np.asarray(predictions)
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
            "macro_f1": float(np.mean(f)),
            "per_class": {n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                              "support": int(s[i])} for i, n in enumerate(names)},
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        }
