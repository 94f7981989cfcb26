# Writes torch_rnn.safetensors: torch.nn.RNN (tanh, batch_first) with a Linear layer on
# its last state, its weights under this library's model-file names and metadata, with
# a batch of sequences ("test.x", N×T×F) and PyTorch's outputs ("test.y", N×2). The Rust
# test `recurrent_files::pytorch_weights_give_pytorch_outputs` loads it and compares.
#
# Run once with PyTorch and safetensors installed (the bytes are checked in):
# python torch_rnn.py. With an argument, checks instead that a model file saved by this
# library (the test writes target/torch-rnn-check.safetensors) gives, in PyTorch, the
# outputs stored beside it: python torch_rnn.py FILE.
import json, sys
import torch
from safetensors.torch import save_file, load_file

T, F, H = 4, 3, 5
torch.manual_seed(4)
rnn = torch.nn.RNN(F, H, nonlinearity="tanh", batch_first=True)
out = torch.nn.Linear(H, 2)

def forward(x):
    _, h = rnn(x)
    return out(h[-1])

layers = [
    {"kind": "elman", "n_inputs": T * F, "width": H, "settings": {
        "activation": {"name": "tanh", "params": {}}, "steps": [T], "step_inputs": [F],
        "hidden": [H], "output": "last"}},
    {"kind": "dense", "n_inputs": H, "width": 2, "settings": {"activation": {"name": "identity", "params": {}}}},
]
meta = {"format": "nn", "format_version": "2", "scalar": "F32", "n_inputs": str(T * F),
        "layers": json.dumps(layers)}
names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]

if len(sys.argv) > 1:
    ours = load_file(sys.argv[1])
    rnn.load_state_dict({n: ours[f"layers.0.{n}"] for n in names})
    out.load_state_dict({n: ours[f"layers.1.{n}"] for n in ("weight", "bias")})
    got = forward(ours["test.x"].reshape(-1, T, F)).detach()
    err = (got - ours["test.y"].reshape(-1, 2)).abs().max().item()
    print(f"largest difference from this library's outputs: {err:.3e}")
    sys.exit(0 if err < 1e-5 else 1)

x = torch.rand(3, T, F, generator=torch.Generator().manual_seed(6)) * 2 - 1
y = forward(x).detach()
tensors = {f"layers.0.{n}": getattr(rnn, n).detach().contiguous() for n in names}
tensors.update({f"layers.1.{n}": getattr(out, n).detach().contiguous() for n in ("weight", "bias")})
tensors["test.x"] = x.contiguous()
tensors["test.y"] = y.contiguous()
save_file(tensors, "torch_rnn.safetensors", metadata=meta)
print("wrote torch_rnn.safetensors; outputs", y.tolist())
