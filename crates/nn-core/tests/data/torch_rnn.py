# Writes torch_rnn.safetensors, torch_lstm.safetensors and torch_gru.safetensors:
# torch.nn.RNN (tanh), torch.nn.LSTM and torch.nn.GRU (batch_first), each with a Linear layer on its last state, their weights
# under this library's model-file names and metadata, with a batch of sequences
# ("test.x", N×T×F) and PyTorch's outputs ("test.y", N×2). The Rust tests
# `recurrent_files::pytorch_*_weights_give_pytorch_outputs` load them and compare.
#
# Run once with PyTorch and safetensors installed (the bytes are checked in):
# python torch_rnn.py. With arguments, checks instead that a model file saved by this
# library (the tests write target/torch-{rnn,lstm,gru}-check.safetensors) gives, in PyTorch,
# the outputs stored beside it: python torch_rnn.py rnn|lstm|gru FILE.
import json, sys
import torch
from safetensors.torch import save_file, load_file

T, F, H = 4, 3, 5
names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def make(cell):
    torch.manual_seed(4)
    if cell == "rnn":
        rec = torch.nn.RNN(F, H, nonlinearity="tanh", batch_first=True)
        first = {"kind": "elman", "n_inputs": T * F, "width": H, "settings": {
            "activation": {"name": "tanh", "params": {}}, "steps": [T], "step_inputs": [F],
            "hidden": [H], "output": "last"}}
    else:
        rec = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(F, H, batch_first=True)
        first = {"kind": cell, "n_inputs": T * F, "width": H, "settings": {
            "steps": [T], "step_inputs": [F], "hidden": [H], "output": "last"}}
    out = torch.nn.Linear(H, 2)
    layers = [first, {"kind": "dense", "n_inputs": H, "width": 2,
                      "settings": {"activation": {"name": "identity", "params": {}}}}]
    meta = {"format": "nn", "format_version": "2", "scalar": "F32", "n_inputs": str(T * F),
            "layers": json.dumps(layers)}

    def forward(x):
        y, _ = rec(x)
        return out(y[:, -1, :])
    return rec, out, forward, meta


if len(sys.argv) > 2:
    rec, out, forward, _ = make(sys.argv[1])
    ours = load_file(sys.argv[2])
    rec.load_state_dict({n: ours[f"layers.0.{n}"] for n in names})
    out.load_state_dict({n: ours[f"layers.1.{n}"] for n in ("weight", "bias")})
    got = forward(ours["test.x"].reshape(-1, T, F)).detach()
    err = (got - ours["test.y"].reshape(-1, 2)).abs().max().item()
    print(f"largest difference from this library's outputs: {err:.3e}")
    sys.exit(0 if err < 1e-5 else 1)

for cell in ("rnn", "lstm", "gru"):
    rec, out, forward, meta = make(cell)
    x = torch.rand(3, T, F, generator=torch.Generator().manual_seed(6)) * 2 - 1
    y = forward(x).detach()
    tensors = {f"layers.0.{n}": getattr(rec, n).detach().contiguous() for n in names}
    tensors.update({f"layers.1.{n}": getattr(out, n).detach().contiguous() for n in ("weight", "bias")})
    tensors["test.x"] = x.contiguous()
    tensors["test.y"] = y.contiguous()
    save_file(tensors, f"torch_{cell}.safetensors", metadata=meta)
    print(f"wrote torch_{cell}.safetensors; outputs", y.tolist())
