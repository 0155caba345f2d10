"""Train an MNIST network from the command line — the same trainer and options as the Train page.

    python -m lab.train --hidden 256 --activation relu --optimizer momentum --lr 0.1 \\
        --epochs 10 --batch-size 64 --data mnist --seed 0 --out model.npz

or the lessons' network (784→256→256→10, BatchNorm, ReLU, Dropout 0.3, AdamW, cosine, clipping at 1.0,
20 epochs; any option given after it still applies):

    python -m lab.train --preset lessons --out lessons.npz

prints one line per epoch

    Epoch 5 | loss 0.0712 | train acc 97.85% | test acc 97.41% | time 12.3s

and saves the network with its model card (lab.modelfile.ModelCard: the data set, the input scaling,
the settings, the test accuracy and on which test set, the per-epoch log, this command). Load it with
lab.modelfile.load_model(path), which returns (net, card).
"""
import argparse
import sys
import time

from core.init import INITS
from lab.modelfile import ModelCard, save_model
from core.optim import OPTIMIZERS
from lab.schedules import SCHEDULES
from lab.data import DataUnavailableError, load_fashion_mnist, load_mnist, read_split
from lab.trainer import HIDDEN_ACTIVATIONS, PRESET_REPORTS, PRESETS, TrainConfig, Trainer, make_train_data

DEFAULTS = TrainConfig()
LOADERS = {"mnist": load_mnist, "fashion": load_fashion_mnist}


def build_parser():
    d = DEFAULTS
    p = argparse.ArgumentParser(
        prog="python -m lab.train",
        description="Train a multilayer perceptron on MNIST or Fashion-MNIST with Backprop Lab's NumPy core, "
                    "print the per-epoch log and save the model (.npz).",
        epilog="Data: MNIST is looked for in $BACKPROP_LAB_MNIST_DIR, torchvision/Keras/Debian copies and "
               "~/.cache/backprop-lab, then downloaded (unless --no-download or $BACKPROP_LAB_OFFLINE=1); "
               "without it the bundled 5,000-image sample is used. Example: python -m lab.train --epochs 5 "
               "--out model.npz",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="start from a named configuration (lessons: the lessons' 784-256-256-10 network with "
                        "BatchNorm, dropout 0.3, AdamW η=1e-3, weight decay 1e-4, cosine, clip 1.0, 20 epochs); "
                        "options given explicitly override it")
    g = p.add_argument_group("data")
    g.add_argument("--data", choices=list(LOADERS), default="mnist", help="which data set")
    g.add_argument("--data-dir", default=None,
                   help="folder with the four IDX files (or a Keras-style .npz) to use instead of searching")
    g.add_argument("--no-download", action="store_true", help="never download; use what is on disk")
    g.add_argument("--test-dir", default=None,
                   help="evaluate on the test split (t10k-*-idx*-ubyte[.gz]) in this folder instead of the data "
                        "set's own (e.g. the full 10k MNIST test set while training on the sample)")
    g.add_argument("--train-size", type=int, default=None,
                   help="number of training images to use (random subset); default: all")
    g.add_argument("--val-fraction", type=float, default=0.0,
                   help="fraction of the training images held out for validation (the page uses 0.1)")
    g.add_argument("--no-normalize", action="store_true",
                   help="feed raw 0–255 pixels instead of x/255 (a pitfall, for experiments)")
    g.add_argument("--no-shuffle", action="store_true",
                   help="feed the data sorted by class, same order every epoch (a pitfall)")
    g = p.add_argument_group("network")
    g.add_argument("--hidden", type=int, nargs="+", default=list(d.hidden), metavar="WIDTH",
                   help="widths of 1–3 hidden layers, e.g. --hidden 256 128")
    g.add_argument("--activation", choices=HIDDEN_ACTIVATIONS, default=d.activation, help="hidden activation")
    g.add_argument("--init", choices=INITS, default=d.init, help="weight initialization")
    g.add_argument("--init-std", type=float, default=d.init_std, help="σ of --init normal")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of the initial weights, the subset and the batch order")
    g.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=d.batchnorm,
                   help="BatchNorm after each hidden Linear layer")
    g.add_argument("--dropout", type=float, default=d.dropout, metavar="P",
                   help="dropout rate after each hidden activation (0: none)")
    g.add_argument("--residual", action=argparse.BooleanOptionalAction, default=d.residual,
                   help="skip connections a + F(a) around hidden layers of equal width (e.g. --hidden 256 256)")
    g = p.add_argument_group("optimization")
    g.add_argument("--optimizer", choices=list(OPTIMIZERS), default=d.optimizer, help="update rule")
    g.add_argument("--lr", type=float, default=d.lr, help="learning rate η")
    g.add_argument("--schedule", choices=list(SCHEDULES), default=d.schedule,
                   help="learning-rate schedule: step halves η every epoch, cosine decays it to 0, plateau halves "
                        "it after an epoch whose validation loss (training loss without --val-fraction) did not improve")
    g.add_argument("--l2", "--weight-decay", dest="l2", type=float, default=d.l2,
                   help="L2 strength λ (for adamw: decoupled weight decay)")
    g.add_argument("--clip", type=float, default=d.clip, metavar="MAX_NORM",
                   help="clip the gradients to this global norm every step (default: no clipping)")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="examples per mini-batch")
    g.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training set")
    g = p.add_argument_group("output")
    g.add_argument("--out", default=None, help="save the trained model to this .npz file")
    g.add_argument("--quiet", action="store_true", help="print only the final line")
    return p


def config_from_args(args):
    return TrainConfig(hidden=tuple(args.hidden), activation=args.activation, init=args.init,
                       init_std=args.init_std, seed=args.seed, optimizer=args.optimizer, lr=args.lr,
                       schedule=args.schedule, l2=args.l2, batch_size=args.batch_size, epochs=args.epochs,
                       normalize=not args.no_normalize, shuffle=not args.no_shuffle, batchnorm=args.batchnorm,
                       dropout=args.dropout, residual=args.residual, clip=args.clip).check()


def parse_args(parser, argv):
    """The options, with a --preset's values as the defaults that explicit options override."""
    args = parser.parse_args(argv)
    if args.preset:
        preset = PRESETS[args.preset].as_dict()
        preset["hidden"] = list(preset["hidden"])
        preset.pop("normalize"), preset.pop("shuffle")         # these are --no-… flags, left to the command
        parser.set_defaults(**preset)
        args = parser.parse_args(argv)
    return args


def format_epoch(log):
    """'Epoch 5 | loss 0.0712 | train acc 97.85% | [val acc … | ]test acc 97.41% | time 12.3s'."""
    parts = [f"Epoch {log['epoch']}", f"loss {log['loss']:.4f}", f"train acc {100 * log['train_acc']:.2f}%"]
    if log.get("val_acc") is not None:
        parts.append(f"val acc {100 * log['val_acc']:.2f}%")
    if log.get("test_acc") is not None:
        parts.append(f"test acc {100 * log['test_acc']:.2f}%")
    parts.append(f"time {log['time']:.1f}s")
    return " | ".join(parts)


def load_data(args):
    """(Dataset, x_test, y_test, test source) as the options ask."""
    ds = LOADERS[args.data](data_dir=args.data_dir, download=not args.no_download)
    if args.test_dir:
        x_test, y_test = read_split(args.test_dir, "test")
        return ds, x_test, y_test, f"test split of {args.test_dir}"
    return ds, ds.x_test, ds.y_test, ds.source


def main(argv=None):
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        config = config_from_args(args)
        ds, x_test, y_test, test_source = load_data(args)
        data = make_train_data(ds.x_train, ds.y_train, x_test, y_test, args.train_size, args.val_fraction,
                               args.seed, ds.class_names)
    except (ValueError, OSError, DataUnavailableError) as e:
        parser.error(str(e))
    say = (lambda *a: None) if args.quiet else print
    say(f"Data: {ds.source}")
    if ds.notice:
        say(f"Note: {ds.notice}")
    if args.preset:
        say(f"Preset {args.preset}: {PRESET_REPORTS[args.preset]}")
    say(f"Training {config.label()} on {data.n_train:,} images ({len(data.val_idx):,} held out), "
        f"testing on {len(y_test):,}")
    trainer = Trainer(config, data, slots=None, on_epoch=lambda log: say(format_epoch(log)))
    started = time.perf_counter()
    try:
        snap = trainer.run()
    except KeyboardInterrupt:
        print("Interrupted: nothing saved.", file=sys.stderr)
        return 130
    if snap.state != "finished":
        print(snap.message, file=sys.stderr)
        return 1
    test_acc = snap.evaluation["accuracy"]
    print(f"Test accuracy {100 * test_acc:.2f}% on {len(y_test):,} images "
          f"after {config.epochs} epochs ({time.perf_counter() - started:.1f}s)")
    if args.preset:
        say(f"(This run: {100 * test_acc:.2f}%. {PRESET_REPORTS[args.preset]})")
    if args.out:
        card = ModelCard(dataset=ds.name, normalize=config.normalize, test_accuracy=float(test_acc),
                         test_size=int(len(y_test)), test_data=test_source, origin="cli",
                         origin_note="python -m lab.train " + " ".join(argv if argv is not None else sys.argv[1:]),
                         train_size=int(data.n_train), settings=config.as_dict(), epochs_log=snap.epochs_log)
        out = args.out if args.out.endswith(".npz") else args.out + ".npz"   # np.savez would add it anyway
        try:
            save_model(trainer.model(), out, card)
        except OSError as e:
            print(f"Could not save the model to {out}: {e}", file=sys.stderr)
            return 1
        say(f"Saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
