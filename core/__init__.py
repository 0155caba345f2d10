"""Backprop Lab's book: a small neural-network library in pure NumPy, written to be read top to bottom.

Read it in this order: activations → losses → init → layers → network → optim → gradcheck → trace
(every number of one step) → graph (one neuron, micrograd style) → perceptron. The services that use
it (training runs, data, the Playground engine, stores) live in lab/.
"""
