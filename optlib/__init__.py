r"""optlib: every optimizer of *Rolling Downhill*, one definition each.

Each method is a constructor returning an :class:`Optimizer`, a pair of pure functions:
``state = opt.init(x0)`` and ``step, state = opt.update(grad, state, x)``; the caller does
``x = x + step``. The same code runs on floats, NumPy arrays (float64 or float32, any shape),
hyperparameter arrays that broadcast (a sweep is one run) and SymPy symbols.

>>> import numpy as np, optlib
>>> opt = optlib.adam(lr=0.1)
>>> xs = optlib.run(opt, optlib.problems.ravine().grad, np.array([-5.0, 2.0]), 100)
>>> xs.shape
(101, 2)

Conventions
-----------
Where each method puts :math:`\epsilon`, what its state starts at, and whether the learning
rate sits inside the velocity. "Same" means optlib reproduces that framework's iterates (the
PyTorch column is checked against torch.optim trajectories in ``tests/``) with the mapping of
names given.

.. list-table::
   :header-rows: 1
   :widths: 14 22 22 22 20

   * - optlib
     - paper
     - PyTorch (``torch.optim``)
     - TensorFlow / Keras
     - optax
   * - ``momentum(lr, momentum)``: :math:`v \leftarrow \mu v - \eta g`, :math:`\Delta x = v`
     - Polyak 1964: same (Goodfellow et al. Alg. 8.2)
     - ``SGD(lr, momentum)``: ``buf = μ buf + g``, ``p -= lr buf``. Same iterates for
       constant lr (:math:`v = -\eta\,\mathrm{buf}`)
     - Keras ``SGD(learning_rate, momentum)``: our form
     - ``sgd(lr, momentum)``: PyTorch's form
   * - ``momentum(..., nesterov=True)``: :math:`\Delta x = \mu v - \eta g`, gradient at the
       current point
     - Sutskever et al. 2013: gradient at :math:`x + \mu v`; iterates differ by the change
       of variables :math:`\tilde x = x + \mu v`
     - ``SGD(nesterov=True)``: same
     - Keras: same
     - ``sgd(nesterov=True)``: same
   * - ``adagrad(lr, eps=1e-10, initial_accumulator=0)``: :math:`\eta g / (\sqrt{s} + \epsilon)`
     - Duchi et al. 2011: no :math:`\epsilon`
     - ``Adagrad``: same (``initial_accumulator_value``)
     - Keras: :math:`s_0 = 0.1`, ``epsilon=1e-7`` inside the root
     - ``adagrad``: :math:`s_0 = 0.1`, :math:`\epsilon` inside the root
   * - ``rmsprop(lr, decay=0.9, eps=1e-8)``: :math:`\eta g / (\sqrt{r} + \epsilon)`, :math:`r_0 = 0`
     - Hinton 2012 (lecture 6e): no :math:`\epsilon`
     - ``RMSprop(lr, alpha=0.99, eps=1e-8)``: ``alpha`` is ``decay``; same
     - TF ``ApplyRMSProp``: :math:`\sqrt{r + \epsilon}` (``eps_inside_sqrt=True``); TF1
       ``RMSPropOptimizer`` starts :math:`r_0 = 1`; Keras ``rho=0.9``, ``epsilon=1e-7``, :math:`r_0 = 0`
       (Keras 3 and ``tf.keras`` from 2.11: inside the root; legacy ``optimizer_v2`` with
       ``momentum=0``: after the root)
     - ``rmsprop(decay=0.9, eps=1e-8)``: :math:`\sqrt{r + \epsilon}` by default
       (``eps_in_sqrt=True``; ``eps_inside_sqrt=True`` here), :math:`r_0 = 0`
   * - ``rmsprop(..., momentum=μ)``: :math:`v \leftarrow \mu v - \eta g/d`, lr inside the velocity
     - Goodfellow et al. Alg. 8.5/8.6 (with Nesterov)
     - ``RMSprop(momentum=μ)``: ``buf = μ buf + g/d``, ``p -= lr buf``: same iterates for
       constant lr
     - TF ``ApplyRMSProp``: our form with ``eps_inside_sqrt=True``
     - ``rmsprop(momentum=μ)``: lr applied before the momentum trace, as here (and TF)
   * - ``rmsprop(..., centered=True)``: :math:`r - a^2` under the root
     - Graves 2013
     - ``RMSprop(centered=True)``: same
     - ``ApplyCenteredRMSProp``: :math:`\sqrt{r - a^2 + \epsilon}`
     - ``rmsprop(centered=True)``
   * - ``adadelta(lr=1, decay=0.9, eps=1e-6)``
     - Zeiler 2012: no learning rate (``lr=1``)
     - ``Adadelta(lr=1.0, rho=0.9, eps=1e-6)``: same
     - Keras: ``learning_rate=0.001``, ``rho=0.95``, ``epsilon=1e-7``
     - ``adadelta(learning_rate)``: same form, once a learning rate is given; with its default
       ``learning_rate=None`` (optax 0.2.8) the update is not multiplied by :math:`-1`, so it
       climbs uphill
   * - ``adam(lr, beta1, beta2, eps=1e-8)``: :math:`\epsilon` added to :math:`\sqrt{\hat v}`
     - Kingma & Ba 2015, Alg. 1: same
     - ``Adam(betas=(β1, β2))``: same
     - Keras: :math:`\epsilon` added to :math:`\sqrt{v}` before correction ("ε-hat"),
       ``epsilon=1e-7``
     - ``adam``: same as ours
   * - ``adam(..., amsgrad=True)``: max of raw :math:`v`, then bias correction
     - Reddi et al. 2018: no bias correction
     - ``Adam(amsgrad=True)``: same
     - Keras ``amsgrad=True``: max of raw :math:`v`
     - ``amsgrad``: max of bias-corrected :math:`\hat v`
   * - ``adamw(..., weight_decay=1e-2)``: :math:`-\eta\lambda x`
     - Loshchilov & Hutter 2019: decay times schedule multiplier
     - ``AdamW``: same
     - Keras ``AdamW(weight_decay=0.004)``: same form
     - ``adamw(weight_decay=1e-4)``: same form
   * - ``adamax(lr=2e-3)``: :math:`u = \max(\beta_2 u, |g| + \epsilon)`
     - Kingma & Ba 2015, §7.1: no :math:`\epsilon`
     - ``Adamax``: same
     - Keras: :math:`\epsilon` added to :math:`u` in the denominator
     - ``adamax``: :math:`\epsilon` inside the maximum, like PyTorch
   * - ``nadam(lr=2e-3, momentum_decay=4e-3)``
     - Dozat 2016
     - ``NAdam``: same
     - legacy Keras ``Nadam``: same schedule; Keras 3: :math:`0.96^{t}` (:math:`\psi = 1`)
     - ``nadam``: no momentum schedule

Hyperparameter names: our ``lr`` is PyTorch's ``lr``, Keras' ``learning_rate``, the papers'
:math:`\eta` or :math:`\alpha`; our ``decay`` is PyTorch's ``alpha`` (RMSprop) or ``rho``
(Adadelta), TensorFlow's ``decay``/``rho``; our ``momentum`` is :math:`\mu` everywhere.
"""

from . import learning, plotting, problems, schedules, training, tree
from ._backend import is_symbolic
from .base import Optimizer, ScheduledState
from .frontier import (
    AdaBeliefState,
    AdafactorState,
    LionState,
    MuonState,
    RAdamState,
    ScheduleFreeState,
    YogiState,
    adabelief,
    adafactor,
    lion,
    muon,
    newton_schulz,
    radam,
    schedule_free_adamw,
    schedule_free_eval_params,
    yogi,
)
from .methods import (
    AdadeltaState,
    AdagradState,
    AdamaxState,
    AdamState,
    GDState,
    MomentumState,
    NadamState,
    RMSPropState,
    adadelta,
    adagrad,
    adam,
    adamax,
    adamw,
    gd,
    momentum,
    nadam,
    rmsprop,
)
from .runners import grid, run

__all__ = [
    "Optimizer",
    "ScheduledState",
    "gd",
    "momentum",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "adabelief",
    "yogi",
    "lion",
    "adafactor",
    "muon",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "newton_schulz",
    "run",
    "grid",
    "problems",
    "learning",
    "training",
    "schedules",
    "plotting",
    "tree",
    "is_symbolic",
    "GDState",
    "MomentumState",
    "AdagradState",
    "RMSPropState",
    "AdadeltaState",
    "AdamState",
    "AdamaxState",
    "NadamState",
    "RAdamState",
    "AdaBeliefState",
    "YogiState",
    "LionState",
    "AdafactorState",
    "MuonState",
    "ScheduleFreeState",
]
