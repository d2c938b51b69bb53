"""framing: detect how news passages frame the Russia / US / NATO security crisis.

>>> from framing import predict, score_article
>>> predict("Putin said NATO had deceived Russia.")          # doctest: +SKIP
Prediction(text=..., label='russian_position', scores={...})
>>> explain("Putin spoke in Moscow. He said NATO had deceived Russia.").top.text   # doctest: +SKIP
'He said NATO had deceived Russia.'

Labels (``framing.LABELS``): ``russian_position``, ``western_response``,
``neutral_report``, as defined by the project's annotation guideline.
"""

from .explain import Explanation, Span, explain
from .errors import FramingError
from .inference import ArticleResult, PassageResult, Prediction, predict, score_article
from .labels import LABELS
from .segment import segment

__all__ = ["LABELS", "ArticleResult", "Explanation", "FramingError", "PassageResult", "Prediction", "Span",
           "explain", "predict", "score_article", "segment"]
__version__ = "0.1.0"
