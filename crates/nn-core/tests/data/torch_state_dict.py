# Writes PyTorch state dicts exactly as users save them, for the Rust tests
# `torch_state_dicts::*` (CI has no PyTorch; the bytes are checked in):
#   torch_mlp_state_dict.safetensors  save_file(mlp.state_dict()) of
#       Sequential(Linear(6, 8), ReLU(), Dropout(0.1), Linear(8, 5), Tanh(), Linear(5, 3))
#   torch_cnn_state_dict.safetensors  save_file(cnn.state_dict()) of
#       Sequential(Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(18, 4))
#   torch_state_dict_io.safetensors   inputs and PyTorch's outputs (eval mode) of both
#
# Run once from this folder: python torch_state_dict.py
# The way back: python torch_state_dict.py MLP_FILE CNN_FILE loads state dicts written by
# this library (Network::to_torch_state_dict, TorchNames::Sequential; the Rust test writes
# them to target/) into the plain Sequentials of the same architectures (no Dropout, so
# the module indices are 0, 2, 4) and compares their outputs with the stored ones.
import sys
import torch
from torch import nn
from safetensors.torch import save_file, load_file

torch.manual_seed(11)
mlp = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 5), nn.Tanh(),
                    nn.Linear(5, 3)).eval()
cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(18, 4)).eval()

if len(sys.argv) > 2:
    io = load_file("torch_state_dict_io.safetensors")
    plain = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3))
    plain.load_state_dict(load_file(sys.argv[1]))
    cnn.load_state_dict(load_file(sys.argv[2]))
    worst = max((plain(io["mlp.x"]) - io["mlp.y"]).abs().max().item(),
                (cnn(io["cnn.x"]) - io["cnn.y"]).abs().max().item())
    print(f"largest difference from PyTorch's stored outputs: {worst:.3e}")
    sys.exit(0 if worst < 1e-6 else 1)

g = torch.Generator().manual_seed(5)
mx = torch.rand(4, 6, generator=g) * 2 - 1
cx = torch.rand(3, 1, 6, 6, generator=g) * 2 - 1
with torch.no_grad():
    io = {"mlp.x": mx, "mlp.y": mlp(mx), "cnn.x": cx, "cnn.y": cnn(cx)}
save_file(mlp.state_dict(), "torch_mlp_state_dict.safetensors")
save_file(cnn.state_dict(), "torch_cnn_state_dict.safetensors")
save_file({k: v.contiguous() for k, v in io.items()}, "torch_state_dict_io.safetensors")
print("wrote the state dicts:", list(mlp.state_dict()), list(cnn.state_dict()))
