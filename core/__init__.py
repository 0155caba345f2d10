"""Backprop Lab's core: a small neural-network library in pure NumPy, written to be read.

Read it in this order: activations → losses → init → network (forward and backward) → optim →
gradcheck → trace (every number of one step) → perceptron; then stats, data and train.
"""
