"""Backprop Lab's book: a small neural-network library in pure NumPy, written to be read top to bottom.

Reading order (the chapters and their lines):

    1. activations.py   149   f beside f′: sigmoid, tanh, ReLU, leaky ReLU, GELU, identity, softmax
    2. losses.py        150   MSE, cross-entropy, binary cross-entropy: value, ∂L/∂ŷ, δ_out
    3. init.py           23   zeros, normal, Xavier, He
    4. layers.py        247   Linear, Activation, BatchNorm, Dropout, ResidualAdd: forward beside backward
    5. network.py       355   the MLP as a sequence of layers: a Pass forward, Gradients back, learn
    6. optim.py         182   SGD, Momentum, RMSProp, Adam, AdamW; clipping by global norm
                      -----
                      1,106   how a network learns, from the activation to the update

    7. gradcheck.py      63   central differences against backprop
    8. trace.py          80   every number of one forward + backward + update
    9. graph.py         108   one neuron as a computational graph, micrograd style
   10. perceptron.py     73   the threshold unit and its learning rule
                      -----
                      1,430   the ten chapters

About 220 of those lines are the lessons' full network, added after the book was first planned at about
1,200 lines: BatchNorm, Dropout and ResidualAdd in layers.py (149), their wiring in network.py (~45) and
clipping by global norm in optim.py (26). The book without them is ~1,210 lines.

checks.py (366) holds the checks of what people type and of what a network and its layers are given
(sizes, dtype, weights, a batch X and its targets, dropout rates and masks, gradients against
parameters, the one-neuron graph's inputs); train.py is an alias for the command-line trainer in lab/.
The services that use the book (training runs, learning-rate schedules, model files, data, the
Playground engine, stores, the pages' step-by-step records in lab/steps.py) live in lab/.
"""
