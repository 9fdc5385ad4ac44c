"""One optimizer of every kind, with non-default settings, shared by the unit tests."""

from __future__ import annotations

import optlib

# name -> (constructor, keyword arguments): every method and every variant of it.
METHODS = {
    "gd": (optlib.gd, {"lr": 0.1}),
    "momentum": (optlib.momentum, {"lr": 0.1, "momentum": 0.8}),
    "nesterov": (optlib.momentum, {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
    "adagrad": (optlib.adagrad, {"lr": 0.3, "eps": 1e-3, "initial_accumulator": 0.1}),
    "rmsprop": (optlib.rmsprop, {"lr": 0.05, "decay": 0.8, "eps": 1e-3}),
    "rmsprop_momentum": (optlib.rmsprop, {"lr": 0.05, "momentum": 0.5}),
    "rmsprop_nesterov": (optlib.rmsprop, {"lr": 0.05, "momentum": 0.5, "nesterov": True}),
    "rmsprop_centered": (optlib.rmsprop, {"lr": 0.05, "momentum": 0.3, "centered": True}),
    "rmsprop_eps_inside_sqrt": (optlib.rmsprop, {"lr": 0.05, "eps": 1e-2,
                                                 "eps_inside_sqrt": True}),
    "adadelta": (optlib.adadelta, {"lr": 0.9, "decay": 0.8, "eps": 1e-4}),
    "adam": (optlib.adam, {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4}),
    "amsgrad": (optlib.adam, {"lr": 0.1, "beta1": 0.8, "beta2": 0.99, "amsgrad": True}),
    "adamw": (optlib.adamw, {"lr": 0.1, "beta1": 0.8, "weight_decay": 0.05}),
    "adamax": (optlib.adamax, {"lr": 0.1, "beta1": 0.8, "beta2": 0.95}),
    "nadam": (optlib.nadam, {"lr": 0.1, "beta1": 0.8, "momentum_decay": 0.01}),
}


def make(name, **changes):
    """The optimizer ``name`` of :data:`METHODS`, with some keyword arguments changed."""
    constructor, kwargs = METHODS[name]
    return constructor(**{**kwargs, **changes})
