"""scikit-learn's own estimator checks on EAL-GAN and on the autoencoder (the family's base),
with small settings.  The checks that do not apply to a supervised anomaly detector are
listed with the reason; the README repeats the list."""
import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from models import EALGAN, AutoEncoder

# Labels mean "normal" (0) and "anomaly" (1): a detector cannot guess which of two other
# labels (1 / 2, strings, ...) is the anomaly, so it refuses them with a sentence.
LABELS = "labels must be 0 (normal) and 1 (anomaly); the check uses other labels"
NOT_APPLICABLE = {
    "check_classifiers_train": "decision_function is an anomaly score in [0, 1] (EAL-GAN) or "
    "unbounded (the family) with threshold_ (0.5 for EAL-GAN), as in PyOD, not a margin "
    "around 0; the check also trains on three classes",
    "check_estimators_dtypes": LABELS,
    "check_classifier_data_not_an_array": LABELS,
    "check_classifiers_classes": LABELS,
    "check_fit2d_1feature": LABELS,
}
# The autoencoder's probability of a row near 0 moves by about 2e-7 when the row is scored in
# a batch of another size (the CPU kernels block the rows differently), beyond the check's
# atol of 1e-7; whether it shows depends on what the process compiled before.
NOT_APPLICABLE_AE = {**NOT_APPLICABLE, "check_methods_subset_invariance": "float32 scores "
                     "differ by ~2e-7 between batch sizes, beyond the check's atol 1e-7"}

# Small graphs: every fit compiles its own steps, and the checks fit about a hundred times.
SMALL = dict(max_epochs=2, batch_size=16, ensemble_num=1, dis_layer=0, gen_layer=0, dim_z=4,
             select_top_k=1, validation_fraction=0)
ESTIMATORS = [EALGAN(**SMALL), AutoEncoder(max_epochs=2, batch_size=16, validation_fraction=0)]


def checks():
    """(estimator, check) pairs; a check that does not apply raises SkipTest instead of
    running (mark="skip")."""
    pairs = []
    for estimator in ESTIMATORS:
        skipped = NOT_APPLICABLE_AE if isinstance(estimator, AutoEncoder) else NOT_APPLICABLE
        for each, check in estimator_checks_generator(
                estimator, expected_failed_checks=skipped, mark="skip"):
            name = _name(getattr(check, "__wrapped__", check))
            pairs.append(pytest.param(each, check, id=f"{type(each).__name__}-{name}"))
    return pairs


def _name(check):
    function = getattr(check, "func", check)
    arguments = ",".join(f"{k}={v}" for k, v in getattr(check, "keywords", {}).items())
    return getattr(function, "__name__", "check") + (f"({arguments})" if arguments else "")


@pytest.mark.slow
@pytest.mark.parametrize("estimator,check", checks())
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
