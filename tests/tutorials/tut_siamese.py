"""A Siamese CNN with the contrastive loss, as metric-learning lectures write it: shared embedding net,
F.pairwise_distance, F.cosine_similarity, torch.linalg.norm, clamp(margin - d, min=0)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
                                 nn.Conv2d(4, 8, 3), nn.ReLU(inplace=True))
        self.fc = nn.Linear(8 * 3 * 3, 5)

    def forward_once(self, x):
        output = self.cnn(x)
        output = output.view(output.size()[0], -1)
        return self.fc(output)

    def forward(self, input1, input2):
        return self.forward_once(input1), self.forward_once(input2)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=2.0):
        super(ContrastiveLoss, self).__init__()
        self.margin = margin

    def forward(self, output1, output2, label):
        euclidean_distance = F.pairwise_distance(output1, output2, keepdim=True)
        return torch.mean((1 - label) * torch.pow(euclidean_distance, 2) +
                          label * torch.pow(torch.clamp(self.margin - euclidean_distance, min=0.0), 2))


if __name__ == "__main__":
    CHECK = {}
    net = SiameseNetwork()
    det_init(net, scale=0.3)
    rng = np.random.default_rng(27)
    a = torch.tensor(rng.random((4, 1, 12, 12)), dtype=torch.float32)
    b = torch.tensor(rng.random((4, 1, 12, 12)), dtype=torch.float32)
    label = torch.tensor([[0.], [1.], [1.], [0.]])
    criterion = ContrastiveLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.0005)
    losses = []
    for _ in range(3):
        out1, out2 = net(a, b)
        optimizer.zero_grad()
        loss = criterion(out1, out2, label)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    CHECK["losses"] = losses
    e1, e2 = net(a, b)
    CHECK["cosine"] = F.cosine_similarity(e1, e2)
    CHECK["norm"] = torch.linalg.norm(e1 - e2, dim=1)
    CHECK["normalized_dot"] = (F.normalize(e1, dim=1) * F.normalize(e2, dim=1)).sum(1)
    CHECK["cdist"] = torch.cdist(e1, e2)
