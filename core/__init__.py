"""Backprop Lab's book: a small neural-network library in pure NumPy, written to be read top to bottom.

Reading order (the chapters and their lines):

    1. activations.py   163   f beside f′: sigmoid, tanh, ReLU, leaky ReLU, GELU, identity, softmax
    2. losses.py        184   MSE, cross-entropy, binary cross-entropy: value, ∂L/∂ŷ, δ_out
    3. init.py           33   zeros, normal, Xavier, He
    4. layers.py        260   Linear, Activation, BatchNorm, Dropout, ResidualAdd: forward beside backward
    5. network.py       450   the MLP as a sequence of layers: a Pass forward, Gradients back, learn
    6. optim.py         304   SGD, Momentum, RMSProp, Adam, AdamW; schedules; clipping by global norm
                      -----
                      1,394   how a network learns, from the activation to the update

    7. gradcheck.py      71   central differences against backprop
    8. trace.py         228   every number of one forward + backward + update (and one BatchNorm batch)
    9. graph.py         188   one neuron as a computational graph, micrograd style
   10. perceptron.py    129   the threshold unit and its learning rule

checks.py (146) holds the checks of what people type and of the arrays a network is given; train.py is
an alias for the command-line trainer in lab/. The services that use the book (training runs, model
files, data, the Playground engine, stores) live in lab/.
"""
