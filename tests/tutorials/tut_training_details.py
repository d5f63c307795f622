"""Training-loop details from lecture notebooks: keyword-argument layers, F.dropout with self.training,
gradient inspection per parameter, zero_grad on the model, add_param_group, in-place preprocessing."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=5, kernel_size=5)
        self.conv2 = nn.Conv2d(in_channels=5, out_channels=10, kernel_size=5)
        self.fc1 = nn.Linear(in_features=250, out_features=32)
        self.fc2 = nn.Linear(in_features=32, out_features=1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), kernel_size=2, stride=2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.dropout(F.relu(self.fc1(x)), p=0.5, training=self.training)
        return self.fc2(x)

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


if __name__ == "__main__":
    CHECK = {}
    net = Net().eval()
    det_init(net, scale=0.1)
    raw = np.random.default_rng(24).integers(0, 256, (6, 3, 32, 32)).astype(np.uint8)
    x = torch.from_numpy(raw).float().div(255)
    x2 = torch.tensor(raw).float()
    x2.div_(255).sub_(0.5).div_(0.25)
    CHECK["preprocess"] = x2
    y = torch.tensor([0., 1., 1., 0., 1., 0.])
    loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=False, num_workers=2, pin_memory=True)
    optimizer = optim.SGD(net.parameters(), lr=0.05)
    criterion = nn.BCEWithLogitsLoss()
    grads = []
    for xb, yb in loader:
        net.zero_grad()
        loss = criterion(net(xb).squeeze(1), yb)
        loss.backward()
        for name, param in net.named_parameters():
            if param.grad is not None:
                grads.append((name, param.grad.abs().mean().item()))
        optimizer.step()
    CHECK["grads"] = grads
    CHECK["conv1_grad_norm"] = net.conv1.weight.grad.norm()
    CHECK["eval_out"] = net(x)
    net.train(False)
    CHECK["train_false"] = net.training
    extra = nn.Linear(2, 2)
    optimizer.add_param_group({"params": extra.parameters(), "lr": 0.5})
    CHECK["groups"] = [(len(g["params"]), g["lr"]) for g in optimizer.param_groups]
    CHECK["max_keepdim"] = torch.max(x[:, 0, 0], dim=1, keepdim=True)
    CHECK["argmax_all"] = torch.argmax(x[0, 0]).item()
    CHECK["tolist"] = net(x[:2]).detach().tolist()
    CHECK["to_two_args"] = str(x.to(torch.device('cpu'), torch.float64).dtype)
    CHECK["get_submodule"] = repr(nn.Sequential(nn.Sequential(nn.ReLU())).get_submodule("0.0"))
