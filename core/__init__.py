"""Backprop Lab's book: a small neural-network library in pure NumPy, written to be read top to bottom.

Read it in this order: activations → losses → init → layers (Linear and Activation, forward and
backward side by side) → network (the MLP as a sequence of layers: a Pass forward, Gradients back)
→ optim → gradcheck → trace (every number of one step) → graph (one neuron, micrograd style) →
perceptron; checks holds the one check for numbers people type. The services that use it (training
runs, data, the Playground engine, stores) live in lab/.
"""
