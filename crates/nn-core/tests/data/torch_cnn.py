# Writes torch_cnn.safetensors: a small convolutional torch.nn.Sequential, its weights
# under this library's model-file names and metadata, with a batch of inputs ("test.x",
# N×C×H×W) and PyTorch's outputs for it ("test.y", N×2). The Rust test
# `conv_files::pytorch_weights_give_pytorch_outputs` loads it and compares.
#
# Run once with PyTorch and safetensors installed (CI has neither; the bytes are checked
# in): python torch_cnn.py   (from this folder). With an argument, checks instead that a
# model file saved by this library (the test writes target/torch-check.safetensors)
# gives, in PyTorch, the outputs stored beside it: python torch_cnn.py FILE.
import json, sys
import torch
from safetensors.torch import save_file, load_file

torch.manual_seed(3)
net = torch.nn.Sequential(
    torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(3, 4, (2, 1), stride=2), torch.nn.Tanh(), torch.nn.AvgPool2d(1),
    torch.nn.Flatten(), torch.nn.Linear(4 * 1 * 2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
# This library's layer k and the Sequential's module index holding its tensors.
modules = {0: 0, 2: 3, 4: 7, 5: 9}

def act(name):
    return {"activation": {"name": name, "params": {}}}

layers = [
    {"kind": "conv2d", "n_inputs": 72, "width": 108, "settings": {**act("relu"),
        "input": [2, 6, 6], "out_channels": [3], "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]}},
    {"kind": "max_pool2d", "n_inputs": 108, "width": 27, "settings": {
        "input": [3, 6, 6], "kernel": [2, 2], "stride": [2, 2]}},
    {"kind": "conv2d", "n_inputs": 27, "width": 8, "settings": {**act("tanh"),
        "input": [3, 3, 3], "out_channels": [4], "kernel": [2, 1], "stride": [2, 2], "padding": [0, 0]}},
    {"kind": "avg_pool2d", "n_inputs": 8, "width": 8, "settings": {
        "input": [4, 1, 2], "kernel": [1, 1], "stride": [1, 1]}},
    {"kind": "dense", "n_inputs": 8, "width": 5, "settings": act("relu")},
    {"kind": "dense", "n_inputs": 5, "width": 2, "settings": act("identity")},
]
meta = {"format": "nn", "format_version": "2", "scalar": "F32", "n_inputs": "72",
        "layers": json.dumps(layers)}

if len(sys.argv) > 1:
    ours = load_file(sys.argv[1])
    state = {f"{modules[k]}.{n}": ours[f"layers.{k}.{n}"] for k in modules for n in ("weight", "bias")}
    net.load_state_dict(state)
    got = net(ours["test.x"].reshape(-1, 2, 6, 6)).detach()
    err = (got - ours["test.y"].reshape(-1, 2)).abs().max().item()
    print(f"largest difference from this library's outputs: {err:.3e}")
    sys.exit(0 if err < 1e-5 else 1)

x = torch.rand(3, 2, 6, 6, generator=torch.Generator().manual_seed(5)) * 2 - 1
y = net(x).detach()
tensors = {f"layers.{k}.{n}": getattr(net[m], n).detach().contiguous()
           for k, m in modules.items() for n in ("weight", "bias")}
tensors["test.x"] = x.contiguous()
tensors["test.y"] = y.contiguous()
save_file(tensors, "torch_cnn.safetensors", metadata=meta)
print("wrote torch_cnn.safetensors; outputs", y.tolist())
