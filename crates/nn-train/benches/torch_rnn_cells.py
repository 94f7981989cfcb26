# usage: python torch_rnn_cells.py <threads> <lstm|gru> [reps]
# W6 of ../shared/anchors/README.md with nn.LSTM or nn.GRU in place of nn.RNN (128 hidden
# over 28 steps of 28 inputs, dense 10 on the last state), seeded random inputs in [0, 1),
# random labels, plain SGD 0.01, batch 64, no shuffling: PyTorch's side of
# `cargo bench -p nn-train --bench rnn -- --cell lstm|gru`. Prints the median s/epoch.
import sys, time, statistics, torch
th = int(sys.argv[1]); cell = sys.argv[2]; reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
torch.set_num_threads(th); torch.set_num_interop_threads(1)
bs, n = 64, 60000
g = torch.Generator().manual_seed(42)
layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = layer(28, 128, batch_first=True)
        self.out = torch.nn.Linear(128, 10)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


X = torch.rand(n, 28, 28, generator=g)
Y = torch.randint(0, 10, (n,), generator=g)
times = []
for r in range(reps):
    torch.manual_seed(7)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    lossf = torch.nn.CrossEntropyLoss()
    t = time.perf_counter()
    for s in range(0, n, bs):
        loss = lossf(model(X[s:s + bs]), Y[s:s + bs])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    times.append(time.perf_counter() - t)
med = statistics.median(times)
print(f"torch w6-{cell} threads={th} median {med:.3f} s/epoch runs {[round(x, 3) for x in times]}")
